package config

import (
	"strings"
	"testing"
	"time"
)

const collectSample = `
collector:
  interval: 10m
  tiers: {hot: 1m, cold: 2h}
  default_tier: normal
  adapt: {faster: 2, slower: 4}
  hosts:
    default: {rate: 20, concurrency: 8}
    limits: {"rsshub.example.gov.cn": {rate: 200, concurrency: 64}}
  backoff: {initial: 30s, max: 2h}
  failure_threshold: 3
  http: {dial_timeout: 3s, tls_timeout: 3s, header_timeout: 5s, max_redirects: 3}
  links: {max_age: 14d, per_day: 500, failures: 2}
registry:
  units: [{id: fj, name: 福建省人民政府办公厅, region: "350000"}]
  accounts:
    - {id: fj-weibo, name: 福建发布, platform: weibo, unit: fj, tier: hot,
       source: {type: rss, url: "http://127.0.0.1:1200/weibo/user/1"}}
`

func TestCollectSettingsLoad(t *testing.T) {
	p := write(t, t.TempDir(), "govwatch.yaml", collectSample)
	l, err := Load(p)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	c := l.Collector
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"tiers.hot", c.Tiers["hot"].D(), time.Minute},
		{"tiers.cold (overridden)", c.Tiers["cold"].D(), 2 * time.Hour},
		{"tiers.normal (default kept)", c.Tiers["normal"].D(), 10 * time.Minute},
		{"default_tier", c.DefaultTier, "normal"},
		{"hosts.limits", c.Hosts.Limits["rsshub.example.gov.cn"], HostLimitConfig{Rate: 200, Concurrency: 64}},
		{"backoff.initial", c.Backoff.Initial.D(), 30 * time.Second},
		{"failure_threshold", c.FailureThreshold, 3},
		{"http.max_redirects", c.HTTP.MaxRedirects, 3},
		{"links.enabled (default kept)", c.Links.Enabled, true},
		{"links.max_age", c.Links.MaxAge.D(), 14 * 24 * time.Hour},
		{"links.per_day", c.Links.PerDay, 500},
		{"links.failures", c.Links.Failures, 2},
		{"links.every (default kept)", c.Links.Every.D(), time.Hour},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	if a, _ := l.Registry.Account("fj-weibo"); a.Tier != "hot" {
		t.Errorf("account tier = %q, want hot", a.Tier)
	}
}

func TestCollectSettingsProblems(t *testing.T) {
	for _, tc := range []struct {
		name, from, to, want string
	}{
		{"unknown account tier", "tier: hot", "tier: warm", `accounts[0].tier: unknown tier "warm"`},
		{"unknown default tier", "default_tier: normal", "default_tier: lukewarm", `collector.default_tier: unknown tier "lukewarm"`},
		{"tier too short", "hot: 1m", "hot: 10ms", "collector.tiers.hot: must be at least 1s"},
		{"adapt out of range", "faster: 2", "faster: 0", "collector.adapt.faster: must be between 1 and 60"},
		{"negative rate", "rate: 20", "rate: -1", "collector.hosts.default.rate: must not be negative"},
		{"backoff max below initial", "max: 2h", "max: 10s", "collector.backoff.max: must be at least backoff.initial"},
		{"no threshold", "failure_threshold: 3", "failure_threshold: 0", "collector.failure_threshold: must be at least 1"},
		{"header timeout", "header_timeout: 5s", "header_timeout: 1ms", "collector.http.header_timeout: must be at least 100ms"},
		{"redirects", "max_redirects: 3", "max_redirects: 99", "collector.http.max_redirects: must be between 0 and 20"},
		{"links max_age", "max_age: 14d", "max_age: 1h", "collector.links.max_age: must be at least 1d"},
		{"links per_day", "per_day: 500", "per_day: 0", "collector.links.per_day: must be at least 1"},
		{"links failures", "failures: 2", "failures: 0", "collector.links.failures: must be between 1 and 30"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := strings.Replace(collectSample, tc.from, tc.to, 1)
			if body == collectSample {
				t.Fatalf("sample holds no %q", tc.from)
			}
			_, err := Load(write(t, t.TempDir(), "govwatch.yaml", body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load: %v, want a problem containing %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), "govwatch.yaml:") {
				t.Errorf("problem %v does not name the file and line", err)
			}
		})
	}
}
