package config

import (
	"github.com/govwatch/govwatch/pkg/conf"
	"path/filepath"
	"strings"
	"testing"
)

func TestSourcesGood(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "wx.secret", "s3cret\n")
	write(t, dir, "vendor.token", "t0ken\n")
	p := write(t, dir, "govwatch.yaml", `
collector:
  sources:
    rsshub: {base_url: "http://rsshub:1200"}
    jsonapi:
      vendor:
        items: data.list
        fields: {id: mid, text: content, published_at: created_at}
        next_cursor: data.next
        cursor_param: cursor
        auth: {header: Authorization, prefix: "Bearer ", secret_file: vendor.token}
    push:
      keys: [{id: crawler, secret_file: wx.secret, accounts: [fz-kuaishou]}]
registry:
  units: [{id: fz, name: 福州市人民政府办公厅}]
  accounts:
    - {id: fz-weibo, name: 福州发布, platform: weibo, unit: fz, source: {type: rsshub, user_id: "3197355467"}}
    - {id: fz-wechat, name: 福州发布, platform: wechat, unit: fz, source: {type: wechat, app_id: wx1, secret_file: wx.secret}}
    - {id: fz-api, name: 福州发布, platform: weibo, unit: fz, source: {type: jsonapi, url: "https://data.example/v2", mapping: vendor}}
    - {id: fz-app, name: 闽政通, platform: app, unit: fz, source: {type: probe, url: "https://app.example/d.html", package_url: "https://app.example/a.apk"}}
    - {id: fz-kuaishou, name: 福州发布, platform: kuaishou, unit: fz, source: {type: push}}
`)
	l, err := Load(p)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	a, _ := l.Registry.Account("fz-wechat")
	if a.Source.Options.AppID != "wx1" || !strings.HasSuffix(a.Source.Options.SecretFile, "/wx.secret") || !strings.HasPrefix(a.Source.Options.SecretFile, dir) {
		t.Errorf("got options %+v, want app id and the secret file resolved against the config's directory", a.Source.Options)
	}
	if got := l.Collector.Sources.Push.MaxSkew.D().Minutes(); got != 5 {
		t.Errorf("got push max_skew %v min, want the default 5", got)
	}
	if got := l.Collector.Sources.WeChat.BaseURL; got != "https://api.weixin.qq.com" {
		t.Errorf("got wechat base_url %q, want the default", got)
	}
}

func TestSourcesProblems(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "govwatch.yaml", `
collector:
  sources:
    jsonapi:
      vendor:
        fields: {text: content}
        next_cursor: data.next
    push:
      rate_per_minute: 0
      keys:
        - {id: crawler}
        - {id: crawler, secret_file: missing.secret}
registry:
  units: [{id: fz, name: 福州市人民政府办公厅}]
  accounts:
    - {id: a1, name: x, platform: weibo, unit: fz, source: {type: rsshub}}
    - {id: a2, name: x, platform: wechat, unit: fz, source: {type: rsshub, user_id: "1"}}
    - {id: a3, name: x, platform: wechat, unit: fz, source: {type: wechat}}
    - {id: a4, name: x, platform: weibo, unit: fz, source: {type: weibo, secret_env: GW_TEST_UNSET_TOKEN}}
    - {id: a5, name: x, platform: weibo, unit: fz, source: {type: jsonapi, url: "https://x.example", mapping: other}}
    - {id: a6, name: x, platform: app, unit: fz, source: {type: probe, url: "https://x.example", probe: apk}}
    - {id: a7, name: x, platform: app, unit: fz, source: {type: probe, url: "ftp://x.example"}}
`)
	_, err := Load(p)
	if err == nil {
		t.Fatal("Load: got no error")
	}
	got := err.Error()
	wants := []string{
		"govwatch.yaml:5: collector.sources.jsonapi.vendor.items: mapping \"vendor\" needs items",
		"collector.sources.jsonapi.vendor.fields.id: mapping \"vendor\" needs fields.id or fields.url",
		"collector.sources.jsonapi.vendor.cursor_param: next_cursor is set",
		"collector.sources.push.rate_per_minute: must be at least 1, not 0",
		"collector.sources.push.keys[0].secret_file: push key \"crawler\" needs secret_file or secret_env",
		"collector.sources.push.keys[1].id: duplicate push key \"crawler\"",
		"collector.sources.push.keys[1].secret_file: cannot read \"missing.secret\"",
		"collector.sources.rsshub.base_url: accounts use rsshub but no base_url is set",
		"registry.accounts[0].source.user_id: an rsshub source needs user_id",
		"registry.accounts[1].source.route: RSSHub has no default route for platform \"wechat\"",
		"registry.accounts[2].source.app_id: a wechat source needs the official account's app_id",
		"registry.accounts[2].source.secret_file: a wechat source needs the app secret",
		"registry.accounts[3].source.user_id: a weibo source needs the authorised account's uid",
		"registry.accounts[3].source.secret_env: environment variable GW_TEST_UNSET_TOKEN is not set",
		"registry.accounts[4].source.mapping: unknown jsonapi mapping \"other\" (collector.sources.jsonapi has [vendor])",
		"registry.accounts[5].source.probe: unknown probe \"apk\"",
		"registry.accounts[6].source.package_url: an app probe needs the package's package_url",
		"registry.accounts[6].source.url: bad url \"ftp://x.example\"",
	}
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("got problems\n%s\nwant one containing %q", got, w)
		}
	}
	for _, line := range strings.Split(got, "\n") {
		if !strings.Contains(line, "govwatch.yaml:") || strings.Contains(line, "govwatch.yaml: ") {
			t.Errorf("got %q, want file:line", line)
		}
	}
}

// TestSourceSamplesLoad loads the config sample each source's README shows,
// so the docs cannot drift from the config types. Secret files named in
// the samples are deployment paths; their absence is the only problem
// allowed.
func TestSourceSamplesLoad(t *testing.T) {
	t.Setenv("GOVWATCH_PUSH_KUAISHOU", "x")
	for _, name := range []string{"rsshub", "jsonapi", "wechat", "weibo", "probe", "push"} {
		t.Run(name, func(t *testing.T) {
			_, err := Load(filepath.Join("..", "collect", "source", name, "sample.yaml"))
			if err == nil {
				return
			}
			for _, p := range err.(conf.Problems) {
				if !strings.Contains(p.Msg, `cannot read "/etc/govwatch/`) {
					t.Errorf("got %s", p)
				}
			}
		})
	}
}

func TestPushKeyAccountsMustExist(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("GW_TEST_PUSH", "s3cret")
	p := write(t, dir, "govwatch.yaml", `
collector:
  sources:
    push:
      keys: [{id: crawler, secret_env: GW_TEST_PUSH, accounts: [fz-kuaishou, nobody]}]
registry:
  units: [{id: fz, name: 福州市人民政府办公厅}]
  accounts:
    - {id: fz-kuaishou, name: 福州发布, platform: kuaishou, unit: fz, source: {type: push}}
`)
	_, err := Load(p)
	want := `govwatch.yaml:5: collector.sources.push.keys[0].accounts[1]: unknown account "nobody"`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %q", err, want)
	}
}

func TestRSSHubBaseURLNeededByRegistryFileAccounts(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "reg.yaml", `units: [{id: fz, name: 福州}]
accounts:
  - {id: a1, name: x, platform: weibo, unit: fz, source: {type: rsshub, user_id: "1"}}
`)
	p := write(t, dir, "c.yaml", "registry: {file: reg.yaml}\n")
	_, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), "collector.sources.rsshub.base_url: accounts use rsshub but no base_url is set") {
		t.Fatalf("got %v, want the missing rsshub base_url reported", err)
	}
}
