package config

import (
	"strings"
	"testing"
	"time"

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
