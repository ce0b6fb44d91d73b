package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestRosterWho(t *testing.T) {
	now := func() time.Time { return time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC) } // 09:00 CST, Friday
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"holiday layer on national day", []string{"who", "--unit", "fz-gov", "--at", "2026-10-01 09:00"}, ExitOK, "福州市人民政府办公厅 2026-10-01 09:00 CST: 吴婷 13800000204 (节假日值班, 10-01 08:30 – 10-02 08:30)"},
		{"make-up working Saturday", []string{"who", "--unit", "fz-gov", "--at", "2026-10-10T02:00:00Z"}, ExitOK, "(工作日值班"},
		{"leave cover", []string{"who", "--unit", "fz-gov", "--at", "2026-12-07 09:00"}, ExitOK, "张敏 13800000205 (override: 王磊年休假"},
		{"default now", []string{"who", "--unit", "fj-gov"}, ExitOK, "2026-11-27 09:00 CST: "},
		{"no team, head paged", []string{"who", "--unit", "fz-health", "--at", "2026-12-07 09:00"}, ExitProblem, "nobody on duty, and the registry names no head"},
		{"unknown unit", []string{"who", "--unit", "nowhere"}, ExitUsage, `unknown unit "nowhere"`},
		{"no unit", []string{"who"}, ExitUsage, "--unit is required"},
		{"bad time", []string{"who", "--unit", "fz-gov", "--at", "tomorrow"}, ExitUsage, `bad time "tomorrow"`},
		{"gaps and units nobody answers for", []string{"gaps"}, ExitProblem, "fz-health\tno duty team in the roster and no head in the registry to page: its alerts page nobody"},
		{"no subcommand", nil, ExitUsage, "usage:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := tc.args
			if len(args) > 0 {
				args = append([]string{args[0], "-config", "../../configs/govwatch.yaml"}, args[1:]...)
			}
			code := rosterCmd(args, IO{Stdout: &out, Stderr: &errOut}, now)
			if code != tc.wantCode || !strings.Contains(out.String()+errOut.String(), tc.want) {
				t.Fatalf("exit %d, output %q %q; want exit %d and %q", code, out.String(), errOut.String(), tc.wantCode, tc.want)
			}
		})
	}
}
