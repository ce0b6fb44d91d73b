// Package links raises content.illegal_link for a post carrying an illegal
// outbound link or a planted one (非法外链、暗链): a link to a gambling,
// porn or advertising domain, a link whose text or host reads as gambling
// or porn spam to the textscan lexicons, or a link styled invisible or
// disguised as another host (model.Link.Hidden, set by the collector).
//
// One alert per post lists every such link. It starts when the post is
// first seen with one (its collected_at), is updated while the set of links
// changes, and resolves when an edit removes them or the post is deleted.
// State: analyzer/links/<post id>, kept while the alert fires.
package links

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/govwatch/govwatch/pkg/alerttext"
	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/plugin"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/textscan"
)

// Config tunes the detector: analyzer.detectors.links.
type Config struct {
	Domains DomainsConfig `yaml:"domains" doc:"Domains whose links are illegal, by kind. An entry starting with a dot is a suffix (a top-level domain such as .bet, or .example.com and everything below it); any other entry is a host and every subdomain of it."`
	// Hidden reports hidden links whatever their target.
	Hidden bool `yaml:"hidden" doc:"Report hidden links (styled invisible, or whose text names another host than the target) whatever their target."`
	// Allow lists hosts never reported.
	Allow []string `yaml:"allow" doc:"Hosts (and their subdomains) never reported, e.g. the unit's own sites that a template hides links to; same forms as domains." example:"[fujian.gov.cn]"`
}

// DomainsConfig are the illegal domains by kind.
type DomainsConfig struct {
	Gambling []string `yaml:"gambling" doc:"Gambling domains and top-level domains."`
	Porn     []string `yaml:"porn" doc:"Porn domains and top-level domains."`
	Ads      []string `yaml:"ads" doc:"Advertising and affiliate-spam domains."`
}

// Defaults are the detector's settings when its section leaves them out:
// the gambling and adult top-level domains of the root zone and the brand
// hosts most often planted in hacked Chinese government pages.
func Defaults() Config {
	return Config{
		Domains: DomainsConfig{
			Gambling: []string{".bet", ".casino", ".poker", ".lotto", ".bingo",
				"bet365.com", "bet365.cn", "188bet.com", "12bet.com", "williamhill.com", "pinnacle.com",
				"1xbet.com", "sbobet.com", "dafabet.com", "vwin.com", "w88.com", "m88.com"},
			Porn: []string{".xxx", ".porn", ".sex", ".adult", ".sexy",
				"pornhub.com", "xvideos.com", "xhamster.com", "xnxx.com", "youporn.com", "redtube.com", "91porn.com"},
			Ads: []string{"doubleclick.net", "googlesyndication.com", "adnxs.com", "popads.net", "propellerads.com", "exoclick.com"},
		},
		Hidden: true,
	}
}

// Validate implements plugin.Validator.
func (c *Config) Validate(ch *plugin.Check) {
	for _, l := range []struct {
		key  string
		list []string
	}{{"domains.gambling", c.Domains.Gambling}, {"domains.porn", c.Domains.Porn}, {"domains.ads", c.Domains.Ads}, {"allow", c.Allow}} {
		for i, d := range l.list {
			if err := checkDomain(d); err != nil {
				ch.Errorf(fmt.Sprintf("%s[%d]", l.key, i), "%q %v", d, err)
			}
		}
	}
}

func checkDomain(d string) error {
	name := strings.TrimPrefix(d, ".")
	if name == "" {
		return fmt.Errorf("is empty")
	}
	if strings.ToLower(d) != d || strings.ContainsAny(d, " /:*") {
		return fmt.Errorf("is not a lower-case domain name (no scheme, path, port or wildcard)")
	}
	if strings.Contains(name, "..") || strings.HasSuffix(name, ".") {
		return fmt.Errorf("has an empty label")
	}
	return nil
}

func init() {
	detect.Register(detect.Plugin[Config]{
		Name:      "links",
		Summary:   "Raises content.illegal_link for a post linking to gambling, porn or ad domains, with spam in a link's text or host, or with hidden links.",
		Defaults:  Defaults,
		DefaultOn: true,
		Categories: []model.Category{
			{ID: model.CategoryContentIllegalLink, Name: "内容链接：非法外链、暗链", Severity: model.SeverityCritical, Veto: true, Upward: true},
		},
		Templates: Templates,
		New: func(c *Config, d detect.Deps) (detect.Detector, error) {
			var scan Scanner
			if d.Lexicons != nil {
				scan = d.Lexicons.Scan
			}
			return New(*c, scan), nil
		},
	})
}

// Templates are the default Chinese texts.
var Templates = map[string]string{
	"summary": `{{.Account.Name}}（{{platform .Account.Platform}}）发布的内容含 {{len .Links}} 个非法外链或暗链`,
	"description": `{{.Unit}}「{{.Account.Name}}」于 {{cst .Post.PublishedAt}} 发布的《{{.Title}}》中发现非法外链或暗链：` +
		`{{range $i, $l := .Links}}{{if $i}}；{{end}}{{$l.URL}}（{{$l.Why}}）{{end}}。` +
		`链接指向赌博、色情或广告网站，或被设置为隐藏，页面可能已被篡改植入，请立即删除链接并排查发布账号和后台安全。`,
	"resolved": `{{.Account.Name}}（{{platform .Account.Platform}}）发布内容中的非法外链、暗链已不再出现`,
}

// Scanner finds problems in a text (textscan.Live.Scan).
type Scanner func(text string) []textscan.Finding

// Detector is the links detector.
type Detector struct {
	cfg  Config
	scan Scanner
	detect.Templated
}

// New returns a detector; a nil scan uses the built-in lexicons.
func New(cfg Config, scan Scanner) *Detector {
	if scan == nil {
		scan = textscan.Default().Scan
	}
	return &Detector{cfg: cfg, scan: scan, Templated: detect.DefaultTexts(Templates)}
}

// Name implements detect.PostDetector.
func (d *Detector) Name() string { return "links" }

const (
	keyPrefix = "analyzer/links/"
	recordTTL = 180 * 24 * time.Hour
)

// record is what is kept of a post while its alert fires.
type record struct {
	Since time.Time `json:"since"`
	// Links are the reported links with their reasons, as last published.
	Links []Finding `json:"links"`
}

// Finding is one reported link.
type Finding struct {
	URL  string `json:"url"`
	Text string `json:"text,omitempty"`
	// Why says, in Chinese, what makes the link illegal.
	Why string `json:"why"`
}

// Post implements detect.PostDetector.
func (d *Detector) Post(ctx context.Context, env *detect.Env, p *model.Post, a *registry.Account) error {
	var found []Finding
	if !p.Deleted {
		found = d.Judge(p.Links)
	}
	key := keyPrefix + p.ID
	existed := false
	_, err := detect.Update(ctx, env.Store, key, recordTTL, func(r *record, ok bool) (bool, error) {
		existed = ok
		switch {
		case len(found) == 0 && !ok:
			return false, nil
		case len(found) == 0:
			return false, env.Publish(ctx, d.alert(env, p, a, r.Since, r.Links, p.CollectedAt))
		case ok && slices.Equal(r.Links, found):
			return false, nil // a repeat or a metrics update: nothing new to say
		}
		if !ok {
			r.Since = p.CollectedAt
		}
		r.Links = found
		return true, env.Publish(ctx, d.alert(env, p, a, r.Since, found, time.Time{}))
	})
	if err != nil {
		return err
	}
	if existed && len(found) == 0 {
		return env.Store.Delete(ctx, key)
	}
	return nil
}

// Judge returns the links of a post that are illegal, each with its
// reasons, in the post's order.
func (d *Detector) Judge(links []model.Link) []Finding {
	var out []Finding
	for _, l := range links {
		host := hostOf(l.URL)
		if host == "" || matchDomain(d.cfg.Allow, host) != "" {
			continue
		}
		var why []string
		for _, k := range []struct {
			name string
			list []string
		}{{"赌博网站", d.cfg.Domains.Gambling}, {"色情网站", d.cfg.Domains.Porn}, {"广告网站", d.cfg.Domains.Ads}} {
			if m := matchDomain(k.list, host); m != "" {
				why = append(why, fmt.Sprintf("%s域名 %s", k.name, m))
			}
		}
		why = append(why, d.spam("链接文字", l.Text)...)
		why = append(why, d.spam("域名", strings.NewReplacer(".", " ", "-", " ").Replace(host))...)
		if l.Hidden && d.cfg.Hidden {
			why = append(why, "隐藏链接")
		}
		if len(why) > 0 {
			out = append(out, Finding{URL: l.URL, Text: l.Text, Why: strings.Join(why, "，")})
		}
	}
	return out
}

// spam reports gambling and porn findings of the lexicons in s.
func (d *Detector) spam(where, s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var why []string
	for _, f := range d.scan(s) {
		if f.Category != model.CategoryProhibitedGambling && f.Category != model.CategoryProhibitedPorn {
			continue
		}
		w := fmt.Sprintf("%s含%s词「%s」", where, strings.TrimPrefix(model.CategoryName(f.Category), "违禁内容："), f.Match)
		if !slices.Contains(why, w) {
			why = append(why, w)
		}
	}
	return why
}

// hostOf is the lower-case host of an absolute URL.
func hostOf(raw string) string {
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[i+1:]
	}
	if strings.HasPrefix(rest, "[") {
		return "" // an IP v6 literal names no domain
	}
	if i := strings.LastIndex(rest, ":"); i >= 0 {
		rest = rest[:i]
	}
	return strings.TrimSuffix(strings.ToLower(rest), ".")
}

// matchDomain returns the entry of list that host falls under, or "".
func matchDomain(list []string, host string) string {
	for _, d := range list {
		if strings.HasPrefix(d, ".") {
			if strings.HasSuffix(host, d) {
				return d
			}
		} else if host == d || strings.HasSuffix(host, "."+d) {
			return d
		}
	}
	return ""
}

func (d *Detector) alert(env *detect.Env, p *model.Post, a *registry.Account, since time.Time, fs []Finding, end time.Time) *model.Alert {
	labels := alerttext.AccountLabels(env.Registry, a, model.CategoryContentIllegalLink)
	labels[model.LabelPostID] = p.ID
	title := p.Title
	if title == "" {
		title = firstRunes(p.Text, 30)
	}
	if p.Kind == model.KindComment {
		title = "网友评论：" + firstRunes(p.Text, 30)
	}
	data := map[string]any{
		"Account": a, "Post": p, "Title": title, "Links": fs,
		"Unit": alerttext.UnitName(env.Registry, a.Unit),
	}
	ann := map[string]string{model.AnnotationURL: p.URL}
	if d.DescribeUntil(ann, end, data) {
		var ev []string
		for _, f := range fs {
			s := f.URL
			if f.Text != "" {
				s = fmt.Sprintf("「%s」→ %s", f.Text, f.URL)
			}
			ev = append(ev, fmt.Sprintf("%s（%s）", s, f.Why))
		}
		ann[model.AnnotationEvidence] = strings.Join(ev, "；") // the post is the alert's post_id and url
		ann[model.AnnotationSuggestion] = "删除上述链接；排查网站和发布后台是否被入侵，修改账号密码，检查模板和历史稿件中是否还有同类链接"
	}
	return &model.Alert{Labels: labels, Annotations: ann, StartsAt: since, EndsAt: end}
}

func firstRunes(s string, n int) string {
	s = strings.TrimSpace(s)
	if rs := []rune(s); len(rs) > n {
		return string(rs[:n]) + "…"
	}
	return s
}
