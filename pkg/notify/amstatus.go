package notify

import (
	"net/http"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/govwatch/govwatch/pkg/conf"
)

// Status is the notifier's set-up as Alertmanager's clients read it:
// `amtool config show` prints the routing tree and receivers,
// `amtool cluster show` the replica, Grafana's Alertmanager data source
// the version and the groups.
type Status struct {
	Version   string         // the build's version
	Started   time.Time      // when the notifier started (default: when the API was made)
	Replica   string         // this replica's name (default "govwatch")
	Route     *Route         // the routing tree alerts are grouped by
	Receivers []ReceiverInfo // every receiver, in the config's order
}

// ReceiverInfo names a receiver and the kinds of its channels.
type ReceiverInfo struct {
	Name     string
	Channels []string // channel types: dingtalk, sms …
	Fallback string
}

// Alertmanager's API v2 shapes (api/v2/openapi.yaml): every field its
// generated clients require is present.
type (
	amStatus struct {
		Cluster     amCluster     `json:"cluster"`
		VersionInfo amVersionInfo `json:"versionInfo"`
		Config      amConfig      `json:"config"`
		Uptime      time.Time     `json:"uptime"`
	}
	amCluster struct {
		Name   string   `json:"name"`
		Status string   `json:"status"` // ready, settling or disabled
		Peers  []amPeer `json:"peers"`
	}
	amPeer struct {
		Name    string `json:"name"`
		Address string `json:"address"`
	}
	amVersionInfo struct {
		Branch    string `json:"branch"`
		BuildDate string `json:"buildDate"`
		BuildUser string `json:"buildUser"`
		GoVersion string `json:"goVersion"`
		Revision  string `json:"revision"`
		Version   string `json:"version"`
	}
	amConfig struct {
		Original string `json:"original"`
	}
	amGroup struct {
		Labels   map[string]string `json:"labels"`
		Receiver receiverRef       `json:"receiver"`
		Alerts   []gettableAlert   `json:"alerts"`
	}
)

// status answers GET /api/v2/status. Replicas share their state through the
// store rather than gossip, so the cluster is this replica alone, ready.
func (api *API) statusV2(w http.ResponseWriter, _ *http.Request, _ scope) {
	s := api.setup
	replica := s.Replica
	if replica == "" {
		replica = "govwatch"
	}
	version := s.Version
	if version == "" {
		version = "dev"
	}
	writeJSON(w, http.StatusOK, amStatus{
		Cluster:     amCluster{Name: replica, Status: "ready", Peers: []amPeer{{Name: replica, Address: "store"}}},
		VersionInfo: amVersionInfo{Branch: "", BuildDate: "", BuildUser: "", GoVersion: runtime.Version(), Revision: "", Version: version},
		Config:      amConfig{Original: s.configYAML()},
		Uptime:      s.Started.UTC(),
	})
}

// receivers answers GET /api/v2/receivers.
func (api *API) receiversV2(w http.ResponseWriter, _ *http.Request, _ scope) {
	out := make([]receiverRef, 0, len(api.setup.Receivers))
	for _, r := range api.setup.Receivers {
		out = append(out, receiverRef{Name: r.Name})
	}
	writeJSON(w, http.StatusOK, out)
}

// groups answers GET /api/v2/alerts/groups: the active alerts the request
// keeps (as /api/v2/alerts filters them), in the groups the routing tree
// puts them in, one group per receiver and values of its group_by labels.
func (api *API) groupsV2(w http.ResponseWriter, r *http.Request, sc scope) {
	alerts, ok := api.gettables(w, r, sc)
	if !ok {
		return
	}
	want := r.URL.Query().Get("receiver")
	byKey := map[string]*amGroup{}
	var keys []string
	for _, a := range alerts {
		for _, m := range api.destinations(a) {
			if want != "" && m.Receiver != want {
				continue
			}
			labels := groupLabels(m, a.Labels)
			key := m.Receiver + "\x00" + groupKeyString(labels)
			g := byKey[key]
			if g == nil {
				g = &amGroup{Labels: labels, Receiver: receiverRef{Name: m.Receiver}, Alerts: []gettableAlert{}}
				byKey[key] = g
				keys = append(keys, key)
			}
			g.Alerts = append(g.Alerts, a)
		}
	}
	sort.Strings(keys)
	out := make([]amGroup, 0, len(keys))
	for _, k := range keys {
		out = append(out, *byKey[k])
	}
	writeJSON(w, http.StatusOK, out)
}

// destinations are where the routing tree sends alert a, or, without a
// tree, its recorded receivers ungrouped.
func (api *API) destinations(a gettableAlert) []Matched {
	if api.setup.Route != nil {
		return api.setup.Route.Destinations(a.Labels)
	}
	var out []Matched
	for _, r := range a.Receivers {
		out = append(out, Matched{Receiver: r.Name})
	}
	return out
}

// configYAML renders the routing tree and the receivers as YAML in
// Alertmanager's words. Channels appear by kind only: no address, token or
// secret of the config is in it.
func (s *Status) configYAML() string {
	type routeYAML struct {
		Receiver       string            `yaml:"receiver,omitempty"`
		Match          map[string]string `yaml:"match,omitempty"`
		Matchers       []string          `yaml:"matchers,omitempty"`
		Continue       bool              `yaml:"continue,omitempty"`
		GroupBy        []string          `yaml:"group_by,omitempty"`
		GroupWait      string            `yaml:"group_wait,omitempty"`
		GroupInterval  string            `yaml:"group_interval,omitempty"`
		RepeatInterval string            `yaml:"repeat_interval,omitempty"`
		Routes         []*routeYAML      `yaml:"routes,omitempty"`
	}
	dur := func(d time.Duration) string {
		if d == 0 {
			return ""
		}
		return conf.Duration(d).String()
	}
	var conv func(r *Route) *routeYAML
	conv = func(r *Route) *routeYAML {
		out := &routeYAML{Receiver: r.Receiver, Match: r.Match, Continue: r.Continue, GroupBy: slices.Clone(r.GroupBy),
			GroupWait: dur(r.GroupWait), GroupInterval: dur(r.GroupInterval), RepeatInterval: dur(r.RepeatInterval)}
		for _, m := range r.Matchers {
			out.Matchers = append(out.Matchers, m.String())
		}
		for _, c := range r.Routes {
			out.Routes = append(out.Routes, conv(c))
		}
		return out
	}
	doc := struct {
		Route *routeYAML `yaml:"route,omitempty"`
	}{}
	if s.Route != nil {
		doc.Route = conv(s.Route)
	}
	var b strings.Builder
	b.WriteString("# govwatch notifier: the routing tree and receivers (channels by kind; no address or secret)\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return b.String() + "# cannot render: " + err.Error() + "\n"
	}
	// Receivers in Alertmanager's shape (amtool parses this as its own
	// config), their channels as comments.
	b.WriteString("receivers:")
	if len(s.Receivers) == 0 {
		b.WriteString(" []")
	}
	b.WriteString("\n")
	for _, r := range s.Receivers {
		if len(r.Channels) > 0 || r.Fallback != "" {
			b.WriteString("  # channels: " + strings.Join(r.Channels, ", "))
			if r.Fallback != "" {
				b.WriteString("; fallback: " + r.Fallback)
			}
			b.WriteString("\n")
		}
		name, _ := yaml.Marshal(r.Name)
		b.WriteString("  - name: " + strings.TrimSpace(string(name)) + "\n")
	}
	return b.String()
}
