package conf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type plug struct {
	URL     string   `yaml:"url" doc:"Where it is." example:"https://example.org"`
	Timeout Duration `yaml:"timeout" doc:"How long to wait."`
	Key     File     `yaml:"key_file" doc:"The key."`
	KeyEnv  Env      `yaml:"key_env" doc:"The key, from the environment."`
	Inner   struct {
		Depth int `yaml:"depth" doc:"How deep."`
	} `yaml:"inner" doc:"Nested keys."`
}

type layout struct {
	Name    string             `yaml:"name"`
	Plugins map[string]Section `yaml:"plugins"`
	Rest    map[string]Section `yaml:",inline"`
}

func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSectionDecodedByItsOwner: a layout keeps sections as YAML, and its
// owner decodes them with the strictness and lines of the whole file.
func TestSectionDecodedByItsOwner(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "key.txt", "s3cret\n")
	t.Setenv("GOVWATCH_CONF_TEST_KEY", "x")
	doc := `name: demo
plugins:
  web:
    url: https://example.org
    timeout: 5s
    key_file: key.txt
    key_env: GOVWATCH_CONF_TEST_KEY
    inner: {depth: 2}
  broken:
    url: https://example.org
    colour: red
    timeout: soon
    key_file: missing.txt
    key_env: GOVWATCH_CONF_TEST_UNSET
extra:
  anything: goes
`
	d := NewDecoder(filepath.Join(dir, "f.yaml"), dir)
	var l layout
	d.Document([]byte(doc), &l)
	if len(d.Problems()) != 0 {
		t.Fatalf("the layout judged its sections: %v", d.Problems())
	}
	if _, ok := l.Rest["extra"]; !ok || l.Plugins["web"].IsZero() {
		t.Fatalf("sections not kept: plugins %v rest %v", l.Plugins, l.Rest)
	}
	var web plug
	d.Section(l.Plugins["web"], "plugins.web", &web)
	if len(d.Problems()) != 0 {
		t.Fatalf("web: %v", d.Problems())
	}
	if web.URL != "https://example.org" || web.Timeout.D() != 5*time.Second || web.Inner.Depth != 2 {
		t.Errorf("web = %+v", web)
	}
	if want := filepath.Join(dir, "key.txt"); string(web.Key) != want {
		t.Errorf("key_file = %q, want it resolved to %q", web.Key, want)
	}
	var broken plug
	d.Section(l.Plugins["broken"], "plugins.broken", &broken)
	got := d.Err().Error()
	for _, want := range []string{
		":11: plugins.broken.colour: unknown key \"colour\"",
		":12: plugins.broken.timeout: bad duration \"soon\"",
		":13: plugins.broken.key_file: cannot read \"missing.txt\": no such file or directory",
		":14: plugins.broken.key_env: environment variable GOVWATCH_CONF_TEST_UNSET is not set",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
	if n := len(d.Problems()); n != 4 {
		t.Errorf("%d problems, want 4:\n%s", n, got)
	}
	// A problem a later check finds still has its line, or its parent's.
	if l := d.Pos.Line("plugins.broken.inner"); l != 10 {
		t.Errorf("line of an absent key = %d, want 10, its section's", l)
	}
	if l := d.Pos.Line("plugins.web.inner.depth"); l != 8 {
		t.Errorf("line of plugins.web.inner.depth = %d, want 8", l)
	}
}

func TestSectionFilters(t *testing.T) {
	s, err := SectionOf([]byte("type: rss\ninterval: 5m\nurl: https://x.example\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.Without("type", "interval").Keys(), ","); got != "url" {
		t.Errorf("Without = %s, want url", got)
	}
	if got := strings.Join(s.Only("type", "interval").Keys(), ","); got != "type,interval" {
		t.Errorf("Only = %s, want type,interval", got)
	}
	if v, ok := s.Get("type").Scalar(); !ok || v != "rss" {
		t.Errorf("Get(type) = %q, %v", v, ok)
	}
	if !s.Get("nope").IsZero() {
		t.Error("Get of an absent key is not zero")
	}
}

func TestReportHelpers(t *testing.T) {
	var probs Problems
	r := NewReport(NewPositions("f.yaml"), "notifier.receivers[0].sms", &probs)
	r.AtLeast("workers", 0, 1)
	r.Fraction("alpha", 1.5)
	r.MinDuration("timeout", Duration(time.Millisecond), time.Second)
	r.OneOf("method", "PUT", "POST", "GET")
	r.URL("url", "ftp://x", true)
	r.Endpoint("hook", "https://h.example/send?access_token=abc", "put the token in access_token_file")
	r.Secret("token", "robot token", "", "")
	r.Mobiles("phones", []string{"13800138000", "call me"})
	r.At("keys[0]").Errorf("id", "push key has no id")
	want := []string{
		"f.yaml: notifier.receivers[0].sms.workers: must be at least 1, not 0",
		"f.yaml: notifier.receivers[0].sms.alpha: must be above 0 and at most 1, not 1.5",
		"f.yaml: notifier.receivers[0].sms.timeout: must be at least 1s, not 1ms",
		"f.yaml: notifier.receivers[0].sms.method: unknown value \"PUT\" (POST or GET)",
		"f.yaml: notifier.receivers[0].sms.url: bad url \"ftp://x\" (want http:// or https://)",
		"f.yaml: notifier.receivers[0].sms.hook: the url must not carry a query: put the token in access_token_file",
		"f.yaml: notifier.receivers[0].sms.token_file: no robot token: set token_file or token_env",
		"f.yaml: notifier.receivers[0].sms.phones[1]: \"call me\" is not a phone number (digits, optional leading +)",
		"f.yaml: notifier.receivers[0].sms.keys[0].id: push key has no id",
	}
	if got := strings.Split(probs.Error(), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDescribe(t *testing.T) {
	type item struct {
		ID string `yaml:"id" doc:"The id."`
	}
	type spec struct {
		plug  `yaml:",inline"`
		Items []item              `yaml:"items" doc:"Some items."`
		Tiers map[string]Duration `yaml:"tiers" doc:"Intervals by tier."`
		Max   ByteSize            `yaml:"max" doc:"A cap."`
		Off   bool                `yaml:"off" doc:"A switch."`
	}
	v := spec{Tiers: map[string]Duration{"hot": Duration(time.Minute), "cold": Duration(time.Hour)}, Max: 8 << 20}
	v.Timeout = Duration(14 * 24 * time.Hour)
	got := Markdown("collector.sources.web", Describe(&v))
	for _, want := range []string{
		"| `collector.sources.web.url` | string |  | Where it is. Example: `https://example.org`. |",
		"| `collector.sources.web.timeout` | duration | `14d` | How long to wait. |",
		"| `collector.sources.web.key_file` | file |  | The key. |",
		"| `collector.sources.web.key_env` | env var |  | The key, from the environment. |",
		"| `collector.sources.web.inner` | mapping |  | Nested keys. |",
		"| `collector.sources.web.inner.depth` | integer |  | How deep. |",
		"| `collector.sources.web.items` | list |  | Some items. |",
		"| `collector.sources.web.items[].id` | string |  | The id. |",
		"| `collector.sources.web.tiers` | map of durations | `{cold: 1h, hot: 1m}` | Intervals by tier. |",
		"| `collector.sources.web.max` | size | `8MiB` | A cap. |",
		"| `collector.sources.web.off` | boolean | `false` | A switch. |",
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("reference lacks\n%s\nin\n%s", want, got)
		}
	}
}
