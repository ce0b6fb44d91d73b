package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/escalate"
	"github.com/govwatch/govwatch/pkg/notify/inhibit"
	"github.com/govwatch/govwatch/pkg/notify/silence"
	"github.com/govwatch/govwatch/pkg/report"
	"github.com/govwatch/govwatch/pkg/store"
)

// Tick does what time alone makes due, on state read from the store: it
// resolves API alerts whose endsAt passed, pages the escalation steps that
// are due, and delivers notifications a silence, an inhibition or a failure
// held back. Every replica may run it; claims in the store keep them from
// doing anything twice.
func (n *Notifier) Tick(ctx context.Context) error {
	recs, err := n.Alerts(ctx, true)
	if err != nil {
		return err
	}
	recs, err = n.expire(ctx, recs)
	errs := []error{err}
	mu, err := n.muterOf(ctx, recs)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for i := range recs {
		r := &recs[i]
		if err := n.deliver(ctx, r, false, mu); err != nil && !errors.Is(err, errSendingElsewhere) {
			errs = append(errs, err)
		}
		if err := n.escalate(ctx, r, mu); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, n.flushDue(ctx))
	return errors.Join(errs...)
}

func escKey(fp string, incident, seq int) string {
	return fmt.Sprintf("notifier/escalation/%s/%d/%d", fp, incident, seq)
}

// escalate pages r's due escalation steps, each under a claim in the store:
// claim, send, record the claim as sent, then advance the record. A replica
// that dies after sending leaves a sent claim, and whoever comes next only
// advances; one that dies before leaves a pending claim that expires.
func (n *Notifier) escalate(ctx context.Context, r *Record, mu *muter) error {
	for r.Status == StatusFiring && r.Escalation != nil {
		p, ok := n.policies[r.Escalation.Policy]
		if !ok {
			return nil // policy removed from the config since
		}
		now := n.o.Clock.Now()
		step, due := p.Due(*r.Escalation, now)
		if !due {
			return nil
		}
		m, err := n.muted(ctx, r, mu)
		if err != nil || m.silenced() || m.inhibited() {
			return err
		}
		seq := r.Escalation.Seq
		key := escKey(r.Fingerprint, r.Incident, seq)
		won, err := n.o.Store.SetNX(ctx, key, []byte(logPending), ClaimTTL)
		if err != nil {
			return err
		}
		var page *Page
		var superiors []string
		if won {
			page, superiors, err = n.page(ctx, r, step, now)
			switch {
			case err == nil:
				// The claim keeps what was paged, so a replica that finds
				// it sent can record the page should this one die now.
				b, _ := json.Marshal(sentPage{Page: *page, Superiors: superiors})
				err = n.o.Store.Set(ctx, key, append([]byte(logSent+" "), b...), nflogTTL)
			case !channel.Retryable(err):
				n.o.Log.Error("escalation page failed for good", zap.String("fingerprint", r.Fingerprint), zap.Int("seq", seq), zap.Error(err))
				err = n.o.Store.Set(ctx, key, []byte(logFailed), nflogTTL)
			default:
				if derr := n.o.Store.Delete(context.WithoutCancel(ctx), key); derr != nil {
					err = errors.Join(err, derr)
				}
				return fmt.Errorf("escalate %s: %w", r.Fingerprint, err)
			}
			if err != nil {
				return err
			}
		} else {
			v, err := n.o.Store.Get(ctx, key)
			if errors.Is(err, store.ErrNotFound) || err == nil && string(v) == logPending {
				return nil // another replica is paging
			}
			if err != nil {
				return err
			}
			if rest, ok := strings.CutPrefix(string(v), logSent+" "); ok {
				var sp sentPage
				if json.Unmarshal([]byte(rest), &sp) == nil {
					page, superiors = &sp.Page, sp.Superiors
				}
			}
		}
		rec, _, err := n.update(ctx, r.Fingerprint, func(cur *Record, _ time.Time) bool {
			if cur.Incident != r.Incident || cur.Escalation == nil || cur.Escalation.Seq != seq {
				return false // advanced already
			}
			level := cur.Escalation.Level
			if page != nil {
				level = page.Level
				cur.Pages = append(cur.Pages, *page)
				for _, u := range superiors {
					cur.Superiors = appendOnce(cur.Superiors, u)
				}
				cur.event(Event{At: page.At, What: EventEscalated, Incident: cur.Incident, Detail: page.Why + ": " + names(page.People)})
			}
			st := p.Advance(*cur.Escalation, cur.FirstSeen, level)
			cur.Escalation = &st
			return false
		})
		if err != nil {
			return err
		}
		if page != nil {
			n.m.escalations.WithLabelValues(escalate.LevelName(page.Level, step.Targets)).Inc()
		}
		if rec == nil {
			return nil
		}
		r = rec
	}
	return nil
}

// sentPage is the value of a sent escalation claim.
type sentPage struct {
	Page      Page     `json:"page"`
	Superiors []string `json:"superiors,omitempty"`
}

// page sends one escalation step and returns what was paged and the
// superior units it reached.
func (n *Notifier) page(ctx context.Context, r *Record, step escalate.Step, now time.Time) (*Page, []string, error) {
	people, level, superiors := n.o.Directory.Page(r.Alert.Labels[model.LabelUnit], step.Targets, r.Escalation.Level, now)
	mins := int(now.Sub(r.FirstSeen).Minutes())
	why := fmt.Sprintf("%d 分钟未确认", mins)
	if p := n.policies[r.Escalation.Policy]; r.Escalation.Next >= len(p.Steps) && len(r.Pages) > 0 {
		// A repeat pages again whoever the last page reached.
		last := r.Pages[len(r.Pages)-1]
		people, level, superiors = last.People, last.Level, r.Superiors
		why = fmt.Sprintf("%d 分钟未确认，再次通报", mins)
	}
	receivers := step.Receivers
	if len(receivers) == 0 {
		receivers = r.Receivers
	}
	pg := &Page{At: now, People: people, Level: level, Why: why}
	if len(people) == 0 {
		return pg, nil, nil // nobody further up: the step is spent
	}
	var errs []error
	for _, name := range receivers {
		recv, ok := n.receivers[name]
		if !ok {
			continue
		}
		note := n.notification(name, r)
		note.Recipients = people
		if len(superiors) > 0 {
			tmp := *r
			tmp.Pages = append(append([]Page(nil), r.Pages...), *pg)
			tmp.Superiors = superiors
			note.Report = n.report(&tmp, fmt.Sprintf("告警发出 %d 分钟内无人确认，按升级策略报送上级单位", mins))
		}
		if err := n.send(ctx, recv, note); err != nil {
			errs = append(errs, fmt.Errorf("receiver %s: %w", name, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	n.o.Log.Info("escalated", zap.String("fingerprint", r.Fingerprint), zap.Int("incident", r.Incident), zap.Int("level", level), zap.Int("people", len(people)))
	return pg, superiors, nil
}

// mute says why an alert pages nobody.
type mute struct {
	silencedBy  []string
	inhibitedBy []string
}

func (m mute) silenced() bool  { return len(m.silencedBy) > 0 }
func (m mute) inhibited() bool { return len(m.inhibitedBy) > 0 }

// muter holds the active silences and the inhibiting alerts read once, so a
// tick or a listing checks many alerts without reading the store for each.
type muter struct {
	silences  *silence.Set
	inhibitor *inhibit.Index
}

// newMuter reads the silences and, when an inhibition rule targets one of
// recs, the active alerts: most alerts no rule targets, and for them that
// read of every record would be wasted.
func (n *Notifier) newMuter(ctx context.Context, recs ...*Record) (*muter, error) {
	var active []Record
	if slices.ContainsFunc(recs, func(r *Record) bool { return inhibit.Targeted(n.o.Inhibit, r.Alert.Labels) }) {
		var err error
		if active, err = n.Alerts(ctx, true); err != nil {
			return nil, err
		}
	}
	return n.muterOf(ctx, active)
}

// muterOf reads the silences and takes active as the active alerts.
func (n *Notifier) muterOf(ctx context.Context, active []Record) (*muter, error) {
	sils, err := n.silences.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("silences: %w", err)
	}
	var sources []inhibit.Active
	if len(n.o.Inhibit) > 0 {
		for _, a := range active {
			sources = append(sources, inhibit.Active{Fingerprint: a.Fingerprint, Labels: a.Alert.Labels})
		}
	}
	return &muter{silences: silence.ActiveAt(sils, n.o.Clock.Now()), inhibitor: inhibit.NewIndex(n.o.Inhibit, sources)}, nil
}

// muted checks r against the silences and the inhibition rules; mu may be
// nil, then they are read now.
func (n *Notifier) muted(ctx context.Context, r *Record, mu *muter) (mute, error) {
	var m mute
	if mu == nil {
		var err error
		if mu, err = n.newMuter(ctx, r); err != nil {
			return m, err
		}
	}
	m.silencedBy = mu.silences.Muting(r.Alert.Labels)
	if by, ok := mu.inhibitor.Inhibitor(r.Fingerprint, r.Alert.Labels); ok {
		m.inhibitedBy = []string{by}
	}
	return m, nil
}

// Acknowledge acknowledges the current incident of fp (incident 0: whatever
// is current), which stops its escalation. Acknowledging twice is not an
// error; acknowledging an incident that is over is.
func (n *Notifier) Acknowledge(ctx context.Context, fp string, incident int, by, note string) (*Record, error) {
	return n.act(ctx, fp, incident, func(r *Record, now time.Time) (bool, error) {
		if r.Status == StatusAcknowledged {
			return false, nil
		}
		if !r.acknowledge(Action{By: by, At: now, Note: note}) {
			return false, fmt.Errorf("alert %s is %s, not firing", fp, r.Status)
		}
		return true, nil
	})
}

// Resolve resolves the current incident of fp by hand, with a note of what
// was done, and tells its receivers.
func (n *Notifier) Resolve(ctx context.Context, fp string, incident int, by, note string) (*Record, error) {
	rec, err := n.act(ctx, fp, incident, func(r *Record, now time.Time) (bool, error) {
		if r.Status == StatusResolved && r.Resolution != nil {
			return false, nil
		}
		if !r.resolveBy(Action{By: by, At: now, Note: note}) {
			return false, fmt.Errorf("alert %s is already resolved", fp)
		}
		return true, nil
	})
	if err != nil {
		return rec, err
	}
	return rec, n.deliver(ctx, rec, false, nil)
}

// ErrNoAlert is returned for an unknown fingerprint; ErrIncidentOver for a
// link or request naming an incident that is no longer current.
var (
	ErrNoAlert      = errors.New("no such alert")
	ErrIncidentOver = errors.New("that incident is over; the alert fired again since")
)

func (n *Notifier) act(ctx context.Context, fp string, incident int, do func(*Record, time.Time) (bool, error)) (*Record, error) {
	var actErr error
	rec, moved, err := n.update(ctx, fp, func(r *Record, now time.Time) bool {
		actErr = nil
		if r.Status == "" {
			actErr = ErrNoAlert
			return false
		}
		if incident != 0 && incident != r.Incident {
			actErr = ErrIncidentOver
			return false
		}
		moved, err := do(r, now)
		actErr = err
		return moved
	})
	if err != nil {
		return nil, err
	}
	if actErr != nil {
		return rec, actErr
	}
	if rec == nil {
		return nil, ErrNoAlert
	}
	if moved {
		n.observeMove(rec)
	}
	return rec, nil
}

// Record returns the record of fp.
func (n *Notifier) Record(ctx context.Context, fp string) (*Record, error) {
	b, err := n.o.Store.Get(ctx, recordKey(fp))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoAlert
	}
	if err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("record %s: %w", fp, err)
	}
	return &r, nil
}

// report renders the upstream report of r.
func (n *Notifier) report(r *Record, reason string) string {
	a := r.Alert
	inc := &report.Incident{
		Veto: r.Veto, Category: a.Name(), CategoryName: model.CategoryName(a.Name()),
		Severity: a.Labels[model.LabelSeverity], SeverityName: model.SeverityName(a.Labels[model.LabelSeverity]),
		Summary: a.Annotations[model.AnnotationSummary], Description: a.Annotations[model.AnnotationDescription],
		Evidence: a.Annotations[model.AnnotationEvidence], URL: a.Annotations[model.AnnotationURL],
		AccountName:  firstNonEmpty(a.Labels[model.LabelAccountName], a.Labels[model.LabelAccountID]),
		PlatformName: model.PlatformName(a.Labels[model.LabelPlatform]),
		UnitName:     n.unitName(a.Labels[model.LabelUnit], a.Annotations[model.AnnotationUnitName]),
		FirstSeen:    r.FirstSeen, Reason: reason,
	}
	var to []string
	for _, u := range r.Superiors {
		to = append(to, n.unitName(u, ""))
	}
	inc.ToUnits = strings.Join(to, "、")
	for _, p := range r.Pages {
		inc.Pages = append(inc.Pages, report.Page{At: p.At, Who: n.describe(p.People), Why: p.Why})
	}
	if r.Ack != nil {
		inc.Acked, inc.AckAt, inc.AckBy, inc.AckNote = true, r.Ack.At, r.Ack.By, r.Ack.Note
	}
	if r.Status == StatusResolved {
		inc.Resolved, inc.ResolvedAt = true, r.ResolvedAt
		if r.Resolution != nil {
			inc.ResolvedBy, inc.ResolutionNote = r.Resolution.By, r.Resolution.Note
		} else {
			inc.ResolutionNote = firstNonEmpty(a.Annotations["resolution"], "监测发现问题已消除")
		}
	}
	text, err := n.o.Report.Render(inc)
	if err != nil {
		n.o.Log.Error("upstream report", zap.String("fingerprint", r.Fingerprint), zap.Error(err))
		return ""
	}
	return text
}

// Report renders the upstream report of fp's current incident.
func (n *Notifier) Report(ctx context.Context, fp string) (string, error) {
	r, err := n.Record(ctx, fp)
	if err != nil {
		return "", err
	}
	return n.report(r, ""), nil
}

func (n *Notifier) unitName(id, fallback string) string {
	if reg := n.o.Directory.Registry; reg != nil {
		if u, ok := reg.Unit(id); ok && u.Name != "" {
			return u.Name
		}
	}
	return firstNonEmpty(fallback, id)
}

// describe writes people as 王磊（值班人员，福州市人民政府办公厅）.
func (n *Notifier) describe(people []channel.Person) string {
	var parts []string
	for _, p := range people {
		parts = append(parts, fmt.Sprintf("%s（%s，%s）", firstNonEmpty(p.Name, p.Mobile, p.Email), p.Role, n.unitName(p.Unit, "")))
	}
	return strings.Join(parts, "、")
}

func names(people []channel.Person) string {
	var out []string
	for _, p := range people {
		out = append(out, firstNonEmpty(p.Name, p.Mobile, p.Email)+"("+p.Role+")")
	}
	return strings.Join(out, ", ")
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func appendOnce(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}
