package text

import "testing"

func TestArticleKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://mp.weixin.qq.com/s?__biz=MzA3&mid=2650&idx=1&sn=ab12&chksm=x#rd", "MzA3_2650_1"},
		{"http://mp.weixin.qq.com/s?__biz=MzA3&appmsgid=2650&itemidx=3", "MzA3_2650_3"},
		{"https://mp.weixin.qq.com/s/Xyz-AbC", ""},
		{"https://evil.example/s?__biz=MzA3&mid=1&idx=1", ""},
		{"https://mp.weixin.qq.com.evil.example/s?__biz=MzA3&mid=1&idx=1", ""},
		{"%%", ""},
	}
	for _, tt := range tests {
		got, ok := ArticleKey(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("ArticleKey(%q): got %q %v, want %q", tt.in, got, ok, tt.want)
		}
	}
}
