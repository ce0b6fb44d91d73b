package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/ack"
	"github.com/govwatch/govwatch/pkg/notify/channel"
)

// composer builds the notifications channels receive: one alert's, or a
// group's, in Alertmanager's shape, with signed one-click links in firing
// alerts' annotations when a signer is configured.
type composer struct {
	externalURL string
	signer      *ack.Signer
	linkTTL     time.Duration
	clock       clockwork.Clock
	reporter    *reporter
}

// forReceiver is r's notification for receiver, paging the incident's
// first recipients and, for a veto-level incident that reached superior
// units, carrying the upstream report.
func (c *composer) forReceiver(receiver string, r *Record) *channel.Notification {
	note := c.one(receiver, r)
	note.Recipients = r.Recipients
	if r.Veto && len(r.Superiors) > 0 && r.notifyStatus() == StatusFiring {
		note.Report = c.reporter.render(r, "单项否决事项，按规定即时上报上级单位")
	}
	return note
}

// one is the bare notification of r for receiver.
func (c *composer) one(receiver string, r *Record) *channel.Notification {
	a := r.Alert
	a.Annotations = copyMap(a.Annotations)
	status := r.notifyStatus()
	if c.signer != nil && status == StatusFiring {
		exp := c.clock.Now().Add(c.linkTTL)
		a.Annotations[model.AnnotationAckURL] = c.link(r, ack.ActionAck, exp)
		a.Annotations[channel.AnnotationResolveURL] = c.link(r, ack.ActionResolve, exp)
	}
	return &channel.Notification{
		Receiver:          receiver,
		GroupKey:          fmt.Sprintf("{}:{fingerprint=%q}", r.Fingerprint),
		Status:            status,
		GroupLabels:       map[string]string{"alertname": a.Name()},
		CommonLabels:      copyMap(a.Labels),
		CommonAnnotations: copyMap(a.Annotations),
		ExternalURL:       c.externalURL,
		Alerts:            []channel.AlertState{{Alert: a, Status: status, Fingerprint: r.Fingerprint}},
	}
}

// link is a signed one-click link for action on r's current incident.
func (c *composer) link(r *Record, action string, exp time.Time) string {
	tok := c.signer.Token(ack.Claims{Fingerprint: r.Fingerprint, Incident: r.Incident, Action: action, Expires: exp})
	return strings.TrimRight(c.externalURL, "/") + "/ack/" + tok
}

// group builds one notification for the group's alerts.
func (c *composer) group(g *group, recs []*Record) *channel.Notification {
	note := &channel.Notification{
		Receiver:    g.Receiver,
		GroupKey:    groupKeyString(g.Labels),
		Status:      StatusResolved,
		GroupLabels: copyMap(g.Labels),
		ExternalURL: c.externalURL,
	}
	seen := map[string]bool{}
	for i, r := range recs {
		one := c.one(g.Receiver, r)
		note.Alerts = append(note.Alerts, one.Alerts...)
		if r.Active() {
			note.Status = StatusFiring
			for _, p := range r.Recipients {
				if k := p.Name + p.Mobile + p.Email; !seen[k] {
					seen[k] = true
					note.Recipients = append(note.Recipients, p)
				}
			}
		}
		if i == 0 {
			note.CommonLabels, note.CommonAnnotations = copyMap(r.Alert.Labels), copyMap(r.Alert.Annotations)
			continue
		}
		for k, v := range note.CommonLabels {
			if r.Alert.Labels[k] != v {
				delete(note.CommonLabels, k)
			}
		}
		for k, v := range note.CommonAnnotations {
			if r.Alert.Annotations[k] != v {
				delete(note.CommonAnnotations, k)
			}
		}
	}
	return note
}

// notificationID is the idempotency key of the notification sent to
// receiver under the notification log entry key: stable across every copy
// (retries, a replica resuming a dead one's send), distinct for every other
// notification, and short and ASCII whatever the receiver's name.
func notificationID(key, receiver string) string {
	sum := sha256.Sum256([]byte(key + "\x00" + receiver))
	return "gw-" + hex.EncodeToString(sum[:16])
}
