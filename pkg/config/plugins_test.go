package config

import (
	"strings"
	"testing"
	"time"

	_ "github.com/govwatch/govwatch/pkg/collect/source/all"
	"github.com/govwatch/govwatch/pkg/collect/source/push"
	"github.com/govwatch/govwatch/pkg/collect/source/wechat"
	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/plugin"
)

// Plugins of every kind that only these tests know.
type testSourceConfig struct {
	BaseURL  string            `yaml:"base_url" doc:"API address."`
	Mappings map[string]string `yaml:"mappings" doc:"Named mappings."`
}

func (c *testSourceConfig) Validate(ch *plugin.Check) {
	ch.URL("base_url", c.BaseURL, ch.Used)
}

type testSourceAccount struct {
	Mapping string    `yaml:"mapping" doc:"Which mapping."`
	Secret  conf.File `yaml:"secret_file" doc:"The token."`
}

func (a *testSourceAccount) Validate(ch *plugin.AccountCheck, c *testSourceConfig) {
	if _, ok := c.Mappings[a.Mapping]; !ok {
		ch.Errorf("mapping", "unknown mapping %q of account %s on %s", a.Mapping, ch.ID, ch.Platform)
	}
}

type testDetectorConfig struct {
	Window conf.Duration `yaml:"window" doc:"How far back."`
}

func (c *testDetectorConfig) Validate(ch *plugin.Check) {
	ch.MinDuration("window", c.Window, time.Minute)
}

type testChannelConfig struct {
	URL string `yaml:"url" doc:"Where to post."`
}

func (c *testChannelConfig) Validate(ch *plugin.Check) { ch.URL("url", c.URL, true) }

func init() {
	cfg, val := plugin.Configure(func() testSourceConfig { return testSourceConfig{BaseURL: "https://api.test"} })
	acct, valAcct := plugin.ConfigureAccount[testSourceConfig, testSourceAccount](nil)
	plugin.Register(plugin.Spec{Kind: plugin.Source, Name: "testsrc", Config: cfg, Validate: val, Account: acct, ValidateAccount: valAcct}, 0)
	cfg, val = plugin.Configure(func() testDetectorConfig { return testDetectorConfig{Window: conf.Duration(time.Hour)} })
	plugin.Register(plugin.Spec{Kind: plugin.Detector, Name: "testdet", Config: cfg, Validate: val, DefaultOn: true,
		Templates: map[string]string{"summary": `{{.Name}} 出现异常`, "resolved": `{{.Name}} 已恢复`}}, 0)
	cfg, val = plugin.Configure[testChannelConfig](nil)
	plugin.Register(plugin.Spec{Kind: plugin.Channel, Name: "testchan", Config: cfg, Validate: val}, 0)
}

type testLayout struct {
	Sources   map[string]conf.Section `yaml:"sources"`
	Detectors map[string]conf.Section `yaml:"detectors"`
	Receiver  struct {
		Name     string                  `yaml:"name"`
		Channels map[string]conf.Section `yaml:",inline"`
	} `yaml:"receiver"`
	Accounts []struct {
		ID     string       `yaml:"id"`
		Source conf.Section `yaml:"source"`
	} `yaml:"accounts"`
}

func decodeTestLayout(t *testing.T, doc string) (*conf.Decoder, *testLayout) {
	t.Helper()
	d := conf.NewDecoder("f.yaml", t.TempDir())
	var l testLayout
	d.Document([]byte(doc), &l)
	return d, &l
}

func TestPluginSectionsGoToTheirPlugins(t *testing.T) {
	d, l := decodeTestLayout(t, `sources:
  testsrc: {base_url: "https://mirror.test", mappings: {news: items}}
detectors:
  testdet: {window: 2h, texts: {summary: "{{.Name}} 异常（已替换）"}}
receiver:
  name: ops
  testchan: {url: "https://hook.test"}
accounts:
  - {id: a1, source: {type: testsrc, interval: 5m, mapping: news}}
`)
	settings := decodeSettings(d, plugin.Source, "sources", l.Sources)
	src, ok := decodeAccountSource(d, "accounts[0].source", l.Accounts[0].Source, "a1", "weibo", "u", settings)
	dets := decodeDetectors(d, "detectors", l.Detectors)
	chans := decodeChannels(d, "receiver", l.Receiver.Channels, "name")
	validateSettings(d, plugin.Source, "sources", settings, nil, map[string]bool{"testsrc": true})
	validateDetectors(d, "detectors", dets, nil)
	validateChannels(d, "receiver", chans, nil)
	if err := d.Err(); err != nil || !ok {
		t.Fatalf("problems: %v (account source ok: %v)", err, ok)
	}
	if s := settings["testsrc"].(*testSourceConfig); s.BaseURL != "https://mirror.test" || s.Mappings["news"] != "items" {
		t.Errorf("source settings = %+v", s)
	}
	if o := src.Options.(*testSourceAccount); src.Type != "testsrc" || src.Interval.D() != 5*time.Minute || o.Mapping != "news" {
		t.Errorf("account source = %+v, options %+v", src, o)
	}
	var det *DetectorConfig
	for i := range dets {
		if dets[i].Name == "testdet" {
			det = &dets[i]
		}
	}
	if det == nil || !det.Enabled || det.Config.(*testDetectorConfig).Window.D() != 2*time.Hour || det.Texts == nil {
		t.Fatalf("detector = %+v", det)
	}
	if len(chans) != 1 || chans[0].Name != "testchan" || chans[0].Config.(*testChannelConfig).URL != "https://hook.test" {
		t.Errorf("channels = %+v", chans)
	}
}

func TestPluginSectionProblems(t *testing.T) {
	d, l := decodeTestLayout(t, `sources:
  testsrc: {base_url: "ftp://mirror.test", colour: red}
  nosuch: {}
detectors:
  testdet: {enabled: false, window: 1s, texts: {summry: "x", resolved: "{{.Name"}}
  nodet: {}
receiver:
  name: ops
  testchan: {}
  tetschan: {url: "https://hook.test"}
accounts:
  - {id: a1, source: {type: testsrc, mapping: sports, token: x}}
  - {id: a2, source: {type: testsrc, mapping: sports}}
  - {id: a3, source: {type: rsss}}
  - {id: a4, source: {interval: 5m}}
`)
	settings := decodeSettings(d, plugin.Source, "sources", l.Sources)
	for i, a := range l.Accounts {
		decodeAccountSource(d, "accounts["+string(rune('0'+i))+"].source", a.Source, a.ID, "weibo", "u", settings)
	}
	dets := decodeDetectors(d, "detectors", l.Detectors)
	chans := decodeChannels(d, "receiver", l.Receiver.Channels, "name")
	validateSettings(d, plugin.Source, "sources", settings, nil, map[string]bool{"testsrc": true})
	validateDetectors(d, "detectors", dets, nil)
	validateChannels(d, "receiver", chans, nil)
	got := d.Err().Error()
	for _, want := range []string{
		`f.yaml:2: sources.testsrc.colour: unknown key "colour"`,
		`f.yaml:2: sources.testsrc.base_url: bad url "ftp://mirror.test" (want http:// or https://)`,
		`f.yaml:3: sources.nosuch: unknown source "nosuch" (`,
		`f.yaml:5: detectors.testdet.texts.summry: unknown template (resolved, summary)`,
		`f.yaml:5: detectors.testdet.texts.resolved: template: resolved:1: unclosed action`,
		`f.yaml:6: detectors.nodet: unknown detector "nodet" (`,
		`f.yaml:9: receiver.testchan.url: missing url`,
		`f.yaml:10: receiver.tetschan: unknown key "tetschan" (name, or a channel: `,
		`f.yaml:12: accounts[0].source.token: unknown key "token"`,
		`f.yaml:13: accounts[1].source.mapping: unknown mapping "sports" of account a2 on weibo`,
		`f.yaml:14: accounts[2].source.type: unknown source type "rsss" (one of `,
		`f.yaml:15: accounts[3].source.type: account "a4" has no source type (one of `,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack\n%s\nin\n%s", want, got)
		}
	}
	// A disabled detector's values are not judged.
	if strings.Contains(got, "detectors.testdet.window") {
		t.Errorf("a disabled detector was validated:\n%s", got)
	}
	// An account whose options do not decode is not validated further.
	if strings.Contains(got, "accounts[0].source.mapping") {
		t.Errorf("an undecodable account source was validated:\n%s", got)
	}
}

// The built-in sources, loaded through config.Load.

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
	o := a.Source.Options.(*wechat.Account)
	if o.AppID != "wx1" || !strings.HasSuffix(string(o.SecretFile), "/wx.secret") || !strings.HasPrefix(string(o.SecretFile), dir) {
		t.Errorf("got options %+v, want app id and the secret file resolved against the config's directory", o)
	}
	if got := l.Collector.SourceSettings["push"].(*push.Config).MaxSkew.D().Minutes(); got != 5 {
		t.Errorf("got push max_skew %v min, want the default 5", got)
	}
	if got := l.Collector.SourceSettings["wechat"].(*wechat.Config).BaseURL; got != "https://api.weixin.qq.com" {
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
    - {id: a8, name: x, platform: weibo, unit: fz, source: {type: weibo, secret_env: PATH}}
`)
	got := loadProblems(t, p,
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
		"registry.accounts[7].source.user_id: a weibo source needs the authorised account's uid",
		"registry.accounts[3].source.secret_env: environment variable GW_TEST_UNSET_TOKEN is not set",
		"registry.accounts[4].source.mapping: unknown jsonapi mapping \"other\" (collector.sources.jsonapi has [vendor])",
		"registry.accounts[5].source.probe: unknown probe \"apk\"",
		"registry.accounts[6].source.package_url: an app probe needs the package's package_url",
		"registry.accounts[6].source.url: bad url \"ftp://x.example\"",
	)
	for _, line := range strings.Split(got, "\n") {
		if !strings.Contains(line, "govwatch.yaml:") || strings.Contains(line, "govwatch.yaml: ") {
			t.Errorf("got %q, want file:line", line)
		}
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
