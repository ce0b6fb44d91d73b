package bus

import (
	"fmt"
	"strings"
)

// DefaultPrefix is the subject prefix used when Options.Prefix is empty.
const DefaultPrefix = "govwatch"

// Kind is what a stream carries; it is the second token of its subjects.
type Kind string

// The four kinds of message on the bus, one stream each.
const (
	KindPost     Kind = "post"     // model.Post, from collectors
	KindSnapshot Kind = "snapshot" // model.AccountSnapshot, from collectors
	KindProbe    Kind = "probe"    // model.ProbeResult, from collectors
	KindAlert    Kind = "alert"    // model.Alert, from the analyzer
)

// Kinds lists every kind, in the order streams are ensured.
var kinds = []Kind{KindPost, KindSnapshot, KindProbe, KindAlert}

// Kinds returns every kind of message on the bus.
func Kinds() []Kind { return append([]Kind(nil), kinds...) }

// Stream names under the default prefix. With another prefix the names are
// StreamName(prefix, kind): the upper-cased prefix, "_", the plural kind.
const (
	StreamPosts     = "GOVWATCH_POSTS"
	StreamSnapshots = "GOVWATCH_SNAPSHOTS"
	StreamProbes    = "GOVWATCH_PROBES"
	StreamAlerts    = "GOVWATCH_ALERTS"
)

// StreamName is the JetStream stream holding kind k under prefix, e.g.
// StreamName("govwatch", KindPost) == "GOVWATCH_POSTS". Deriving the name
// from the prefix lets two deployments with different prefixes share one
// NATS account without fighting over a stream.
func StreamName(prefix string, k Kind) string {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return strings.ToUpper(prefix) + "_" + strings.ToUpper(string(k)) + "S"
}

// StreamSubjects is the subject filter a stream of kind k captures:
// "<prefix>.<kind>.>".
func StreamSubjects(prefix string, k Kind) string {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return prefix + "." + string(k) + ".>"
}

// PostSubject is "<prefix>.post.<platform>.<account_id>".
func PostSubject(prefix, platform, accountID string) (string, error) {
	return accountSubject(prefix, KindPost, platform, accountID)
}

// SnapshotSubject is "<prefix>.snapshot.<platform>.<account_id>".
func SnapshotSubject(prefix, platform, accountID string) (string, error) {
	return accountSubject(prefix, KindSnapshot, platform, accountID)
}

// ProbeSubject is "<prefix>.probe.<platform>.<account_id>".
func ProbeSubject(prefix, platform, accountID string) (string, error) {
	return accountSubject(prefix, KindProbe, platform, accountID)
}

// AlertSubject is "<prefix>.alert.<alertname>"; the alertname keeps its dots,
// so "<prefix>.alert.privacy.>" selects every privacy alert.
func AlertSubject(prefix, alertname string) (string, error) {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if err := ValidAlertname(alertname); err != nil {
		return "", err
	}
	return prefix + "." + string(KindAlert) + "." + alertname, nil
}

func accountSubject(prefix string, k Kind, platform, accountID string) (string, error) {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if err := ValidToken(platform); err != nil {
		return "", fmt.Errorf("platform: %w", err)
	}
	if err := ValidToken(accountID); err != nil {
		return "", fmt.Errorf("account id: %w", err)
	}
	return prefix + "." + string(k) + "." + platform + "." + accountID, nil
}

// ValidToken checks that s is one subject-safe token, [a-z0-9_-]+: platforms,
// account ids and the prefix.
func ValidToken(s string) error {
	if s == "" {
		return fmt.Errorf("empty subject token")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return fmt.Errorf("subject token %q: want [a-z0-9_-]+", s)
		}
	}
	return nil
}

// ValidAlertname checks an alertname, [a-z0-9_.]+ with no empty part between
// dots (which would make an invalid subject).
func ValidAlertname(s string) error {
	if s == "" {
		return fmt.Errorf("empty alertname")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			return fmt.Errorf("alertname %q: want [a-z0-9_.]+", s)
		}
	}
	if s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return fmt.Errorf("alertname %q: empty part between dots", s)
	}
	return nil
}
