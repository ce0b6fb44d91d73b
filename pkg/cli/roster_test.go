package cli

import (
	"bytes"
	"os"
	"path/filepath"
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
		{"no team, head paged", []string{"who", "--unit", "fz-health", "--at", "2026-12-07 09:00"}, ExitProblem, "nobody on duty; the head (第一责任人) is paged: 市卫健委办公室主任 13800000401"},
		{"unknown unit", []string{"who", "--unit", "nowhere"}, ExitUsage, `unknown unit "nowhere"`},
		{"no unit", []string{"who"}, ExitUsage, "--unit is required"},
		{"bad time", []string{"who", "--unit", "fz-gov", "--at", "tomorrow"}, ExitUsage, `bad time "tomorrow"`},
		{"gaps", []string{"gaps"}, ExitOK, "no gaps"},
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

// TestRosterGaps: what gaps prints and how it exits, with the demo's
// roster, with no roster at all (every unit without a head a page can
// reach is paged to nobody) and with every unit answered for.
func TestRosterGaps(t *testing.T) {
	now := func() time.Time { return time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC) }
	registry := func(heads string) string {
		return `units:
  - {id: fz-gov, name: 福州市人民政府办公厅` + heads + `}
  - {id: fz-edu, name: 福州市教育局, parent: fz-gov, head: {name: 局长}}
  - {id: fz-health, name: 福州市卫生健康委员会, parent: fz-gov, head: {name: 主任, mobile: "13900000001"}}
accounts:
  - {id: fz-gov-wechat, name: 中国福州, platform: wechat, unit: fz-gov, source: {type: rss, url: "http://127.0.0.1/a.rss"}}
  - {id: fz-edu-weibo, name: 福州教育, platform: weibo, unit: fz-edu, source: {type: rss, url: "http://127.0.0.1/b.rss"}}
  - {id: fz-health-toutiao, name: 福州卫健, platform: toutiao, unit: fz-health, source: {type: rss, url: "http://127.0.0.1/c.rss"}}
`
	}
	noRoster := func(t *testing.T, reg string) string {
		dir := t.TempDir()
		write := func(name, body string) {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write("registry.yaml", reg)
		write("govwatch.yaml", "registry: {file: registry.yaml}\n")
		return filepath.Join(dir, "govwatch.yaml")
	}
	tests := []struct {
		name     string
		config   func(t *testing.T) string
		wantCode int
		want     []string // lines, in order
	}{
		// The demo gives every unit with accounts a duty team or a head
		// with a number, as a deployment should.
		{"demo roster", func(*testing.T) string { return "../../configs/govwatch.yaml" }, ExitOK, []string{"no gaps"}},
		{"no roster: heads without a number page nobody", func(t *testing.T) string { return noRoster(t, registry("")) }, ExitProblem, []string{
			"names no roster (notifier.roster): nobody is on duty, each unit's head is paged",
			"fz-edu\tno duty team in the roster and no head in the registry to page: its alerts page nobody",
			"fz-gov\tno duty team in the roster and no head in the registry to page: its alerts page nobody",
		}},
		{"no roster, every head reachable but one with an email", func(t *testing.T) string {
			reg := strings.Replace(registry(`, head: {name: 主任, email: zr@fz.gov.cn}`), "head: {name: 局长}", `head: {name: 局长, mobile: "13900000002"}`, 1)
			return noRoster(t, reg)
		}, ExitOK, []string{"names no roster", "no gaps"}},
	}
	t.Run("who, for a unit without team or head", func(t *testing.T) {
		var out, errOut bytes.Buffer
		code := rosterCmd([]string{"who", "-config", noRoster(t, registry("")), "--unit", "fz-gov"}, IO{Stdout: &out, Stderr: &errOut}, now)
		if code != ExitProblem || !strings.Contains(out.String(), "nobody on duty, and the registry names no head") {
			t.Fatalf("exit %d, output %q %q; want exit %d and nobody on duty, no head", code, out.String(), errOut.String(), ExitProblem)
		}
	})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := rosterCmd([]string{"gaps", "-config", tc.config(t)}, IO{Stdout: &out, Stderr: &errOut}, now)
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			ok := code == tc.wantCode && len(lines) == len(tc.want)
			for i := 0; ok && i < len(lines); i++ {
				ok = strings.Contains(lines[i], tc.want[i])
			}
			if !ok {
				t.Fatalf("exit %d, output %q %q; want exit %d and lines %q", code, out.String(), errOut.String(), tc.wantCode, tc.want)
			}
		})
	}
}
