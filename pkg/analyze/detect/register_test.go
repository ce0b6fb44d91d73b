package detect_test

import (
	"errors"
	"testing"

	"github.com/govwatch/govwatch/pkg/alerttext"
	"github.com/govwatch/govwatch/pkg/analyze/detect"
)

type greeterConfig struct {
	Name string `yaml:"name" doc:"Who is greeted."`
}

// greeter is a detector whose constructor takes its config alone, as most
// detectors' do; it embeds detect.Templated for its texts.
type greeter struct {
	detect.Templated
	cfg greeterConfig
}

var greeterTemplates = map[string]string{"summary": "hello {{.}}"}

func newGreeter(c greeterConfig) *greeter {
	return &greeter{Templated: detect.DefaultTexts(greeterTemplates), cfg: c}
}

func (*greeter) Name() string { return "greeter" }

var errRefused = errors.New("refused")

func newRefusing(greeterConfig) (*greeter, error) { return nil, errRefused }

func init() {
	detect.Register(detect.Plugin[greeterConfig]{
		Name: "registertest-greeter", Summary: "Greets.", Templates: greeterTemplates,
		Defaults: func() greeterConfig { return greeterConfig{Name: "world"} },
		New:      detect.Of(newGreeter),
	})
	detect.Register(detect.Plugin[greeterConfig]{
		Name: "registertest-refusing", Summary: "Fails to build.", Templates: greeterTemplates,
		New: detect.OrError(newRefusing),
	})
}

// TestRegisterTexts: a detector embedding Templated renders the
// deployment's texts when it has some, else its defaults, and gets its
// config through the adapted constructor.
func TestRegisterTexts(t *testing.T) {
	cfg := &greeterConfig{Name: "unit"}
	for _, tc := range []struct {
		name  string
		texts *alerttext.Texts
		want  string
	}{
		{"defaults", nil, "hello x"},
		{"deployment's", alerttext.MustTexts(map[string]string{"summary": "你好 {{.}}"}), "你好 x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			det, err := detect.New("registertest-greeter", cfg, detect.Deps{Texts: tc.texts})
			if err != nil {
				t.Fatal(err)
			}
			g := det.(*greeter)
			if got := g.Render("summary", "x"); got != tc.want {
				t.Errorf("Render = %q, want %q", got, tc.want)
			}
			if g.cfg != *cfg {
				t.Errorf("config %+v, want %+v", g.cfg, *cfg)
			}
		})
	}
}

// TestRegisterError: a constructor's error comes back, with the detector's
// name, and no detector with it.
func TestRegisterError(t *testing.T) {
	det, err := detect.New("registertest-refusing", &greeterConfig{}, detect.Deps{})
	if !errors.Is(err, errRefused) || err.Error() != "detector registertest-refusing: refused" {
		t.Fatalf("New: %v, want the detector's refusal", err)
	}
	if det != nil {
		t.Errorf("New returned %#v with its error", det)
	}
}
