package match

import (
	"strings"
	"testing"

	"github.com/govwatch/govwatch/pkg/model"
)

func TestParseAndMatch(t *testing.T) {
	ls := model.LabelSet{"alertname": "account.stale", "severity": "critical", "unit": "fz-gov"}
	tests := []struct {
		in      string
		want    bool
		wantErr string
	}{
		{`severity="critical"`, true, ""},
		{`severity=critical`, true, ""},
		{`{severity="critical"}`, true, ""},
		{`severity!="critical"`, false, ""},
		{`unit=~"fz.*"`, true, ""},
		{`unit=~"fz"`, false, ""}, // anchored
		{`unit!~"xm.*"`, true, ""},
		{`region=""`, true, ""}, // absent label is empty
		{`alertname=~"account\\.stale(_warning)?"`, true, ""},
		{`unit`, false, "want name=value"},
		{`1unit="x"`, false, "invalid label name"},
		{`unit=~"("`, false, "bad regex"},
		{`unit="unterminated`, false, "bad quoted value"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			m, err := Parse(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Parse(%q): got error %v, want one containing %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if got := m.Matches(ls); got != tc.want {
				t.Errorf("Matches: got %v, want %v", got, tc.want)
			}
			again, err := Parse(m.String())
			if err != nil || again.String() != m.String() {
				t.Errorf("round trip of %q: got %v, %v", m.String(), again, err)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{`a="b"`, `{a=~"b.*"}`, `a!~x`, `=`, `a=="b"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := Parse(s)
		if err != nil {
			return
		}
		if _, err := Parse(m.String()); err != nil {
			t.Fatalf("Parse(%q) ok but its String %q does not parse: %v", s, m.String(), err)
		}
	})
}

// TestRegexLimits: a pattern any token may send is bounded in length and
// in the size of the program it compiles to.
func TestRegexLimits(t *testing.T) {
	for _, tc := range []struct {
		name, value, want string
	}{
		{"long", strings.Repeat("a", MaxRegexBytes+1), "at most 1024"},
		{"too complex", strings.Repeat(`[a-z]{999}`, 11), "too complex"},
		{"nested repeats", "(?:(?:a|b){100}){100}", "regex"},
	} {
		if _, err := New("unit", Regexp, tc.value); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: New = %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
	if _, err := New("unit", Regexp, "fz-.*|np-(edu|gov)"); err != nil {
		t.Errorf("an ordinary regex refused: %v", err)
	}
}

// TestErrorsQuoteLittle: an error quotes at most a clipped piece of what it
// refuses, however large: a request of a megabyte gets a short answer.
func TestErrorsQuoteLittle(t *testing.T) {
	huge := strings.Repeat("a", 900<<10)
	for name, s := range map[string]string{
		"huge regex":      `unit=~"` + huge + `"`,
		"huge label name": strings.Repeat("a-", 450<<10) + `="x"`,
		"no operator":     huge,
		"bad quoting":     `unit="` + huge,
		"bad regex":       `unit=~"(` + strings.Repeat("a", 1000) + `"`,
	} {
		_, err := Parse(s)
		if err == nil {
			t.Errorf("%s: parsed", name)
			continue
		}
		if n := len(err.Error()); n > 400 {
			t.Errorf("%s: an error of %d bytes: %.200s…", name, n, err)
		}
	}
	if _, err := New(strings.Repeat("a-", 450<<10), Equal, "x"); err == nil || len(err.Error()) > 200 {
		t.Errorf("a huge label name: %.200v", err)
	}
}
