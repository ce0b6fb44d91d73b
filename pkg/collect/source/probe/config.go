package probe

import (
	"github.com/govwatch/govwatch/pkg/collect/source"
	"github.com/govwatch/govwatch/pkg/plugin"
	"github.com/govwatch/govwatch/pkg/registry"
)

// Account is a probe account's options.
type Account struct {
	URL        string `yaml:"url" doc:"The page checked: an app's download page, a mini-program's entry page, a site." example:"https://mztapp.fujian.gov.cn/download.html"`
	Probe      string `yaml:"probe" doc:"What is checked: app, miniprogram or web; empty: from the platform."`
	PackageURL string `yaml:"package_url" doc:"An app's package, downloaded and checked; required for an app probe." example:"https://mztapp.fujian.gov.cn/app/mzt-android.apk"`
}

// Validate checks the addresses and the kind of probe.
func (a *Account) Validate(c *plugin.AccountCheck, _ *struct{}) {
	c.URL("url", a.URL, true)
	if a.Probe != "" && a.Probe != KindApp && a.Probe != KindMiniProgram && a.Probe != KindWeb {
		c.Errorf("probe", "unknown probe %q (app, miniprogram or web)", a.Probe)
	}
	c.URL("package_url", a.PackageURL, false)
	if (a.Probe == KindApp || a.Probe == "" && c.Platform == "app") && a.PackageURL == "" {
		c.Errorf("package_url", "an app probe needs the package's package_url")
	}
}

func init() {
	source.Register(source.Plugin[struct{}, Account]{
		Name:    "probe",
		Summary: "Availability of an app's download page and package, a mini-program's entry or a site.",
		New: func(_ *struct{}, d source.Deps) (source.Source, error) {
			return &Source{Client: d.HTTP, Clock: d.Clock}, nil
		},
	})
}

// URL is the page the account's probe checks.
func (s *Source) URL(a *registry.Account) string {
	return source.Options[Account](a.Source.Options).URL
}
