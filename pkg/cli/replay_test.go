package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestReplayCommand(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"table", []string{"--accounts", "40", "--days", "28"}, ExitOK, "exactly the scripted alerts"},
		{"json", []string{"--accounts", "40", "--days", "28", "--json"}, ExitOK, `"ok": true`},
		{"too few days", []string{"--days", "5"}, ExitUsage, ""},
		{"bad sweep", []string{"--sweep", "every hour"}, ExitUsage, ""},
		{"stray argument", []string{"x"}, ExitUsage, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Main(t.Context(), append([]string{"replay"}, tc.args...), IO{Stdout: &out, Stderr: &errb})
			if code != tc.wantCode {
				t.Fatalf("got exit %d, want %d; stderr: %s", code, tc.wantCode, errb.String())
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("got output %q, want it to contain %q", out.String(), tc.wantOut)
			}
			if tc.name == "json" {
				var v struct {
					OK   bool `json:"ok"`
					Rows []struct {
						Category string `json:"category"`
						GotFired int    `json:"got_fired"`
					} `json:"categories"`
				}
				if err := json.Unmarshal(out.Bytes(), &v); err != nil {
					t.Fatalf("decode: %v", err)
				}
				if !v.OK || len(v.Rows) == 0 {
					t.Errorf("got ok %v with %d rows, want ok with rows", v.OK, len(v.Rows))
				}
			}
		})
	}
}
