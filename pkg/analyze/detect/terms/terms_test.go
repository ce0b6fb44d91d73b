package terms

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseAndMatch(t *testing.T) {
	l, err := Parse("t.txt", "# comment\n投诉\n\n举报\n投诉\n  曝光  \n")
	if err != nil {
		t.Fatal(err)
	}
	if l.Len() != 3 {
		t.Errorf("Len = %d, want 3 (repeat dropped)", l.Len())
	}
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"我要举报并投诉", []string{"投诉", "举报"}},
		{"感谢及时回复", nil},
		{"曝光", []string{"曝光"}},
	} {
		if got := l.Match(tc.text); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Match(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"empty", "# only a comment\n", "t.txt: no terms"},
		{"space", "投诉\n不 作为\n", `t.txt:2: term "不 作为" contains a space`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.txt", tc.text)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse error = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.txt")
	if err := os.WriteFile(path, []byte("停水\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Load(path, "builtin", "停电\n")
	if err != nil || !reflect.DeepEqual(l.Match("停水停电"), []string{"停水"}) {
		t.Errorf("Load(file) = %v, %v; want the file's terms", l, err)
	}
	l, err = Load("", "builtin", "停电\n")
	if err != nil || !reflect.DeepEqual(l.Match("停水停电"), []string{"停电"}) {
		t.Errorf("Load(\"\") = %v, %v; want the built-in terms", l, err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.txt"), "b", "x"); err == nil {
		t.Error("Load of a missing file: no error")
	}
}
