package text

import "testing"

// BenchmarkParseTime reads a zone-less date, as jsonapi does for every item
// of an answer without a time layout.
func BenchmarkParseTime(b *testing.B) {
	for b.Loop() {
		if _, ok := ParseTime("2026-08-03 10:00:00"); !ok {
			b.Fatal("not parsed")
		}
	}
}

func TestPlainText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"纯文本", "纯文本"},
		{"<p>一</p><p>二</p>", "一 二"},
		{"a&amp;b &lt;c&gt; &#20013;", "a&b <c> 中"},
		{"<style>p{}</style>正文<script>x()</script>", "正文"},
		{"  多个\n\t空白　全角  ", "多个 空白 全角"},
		{"<img src=x>图<br/>文", "图 文"},
	}
	for _, tt := range tests {
		if got := PlainText(tt.in); got != tt.want {
			t.Errorf("PlainText(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}
