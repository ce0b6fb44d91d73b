package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/escalate"
)

// escalator is the escalation stage. When an incident opens it picks the
// incident's policy and who the first notification pages (start, in the
// lifecycle's write). On every tick it pages the steps that came due while
// nobody acknowledged (tick), each under a claim in the store: claim, send,
// record the claim as sent with what was paged, then advance the record.
// "Who was paged when" lives in the record, not in a timer, so escalation
// carries on across restarts and replicas.
type escalator struct {
	policies []escalate.Policy
	byName   map[string]*escalate.Policy
	dir      *escalate.Directory
	clock    clockwork.Clock
	log      *zap.Logger
	m        *metrics

	records   *lifecycle
	claims    *claims
	sender    *sender
	notes     *composer
	receivers map[string]Receiver
	inhibitor *inhibitor
	silencer  *silencer
}

// start decides who the first notification pages: the steps due at once,
// and for veto-level categories under a policy that says so, every superior
// unit's duty too. When those steps name targets but reach nobody a page
// can reach, it marks the incident unrouted (unrouted.go).
func (e *escalator) start(r *Record) {
	p, ok := escalate.Select(e.policies, r.Alert.Labels)
	if !ok {
		return
	}
	st, steps := p.Start(r.FirstSeen)
	var targets []string
	for _, s := range steps {
		targets = append(targets, s.Targets...)
	}
	why := "首次通报"
	if p.VetoUpward && escalate.Veto(r.Alert.Labels) {
		r.Veto = true
		targets = append(targets, escalate.TargetDuty, escalate.TargetHead, escalate.TargetChain)
		why = "单项否决事项，即时上报"
	}
	people, level, superiors := e.dir.Page(r.Alert.Labels[model.LabelUnit], targets, 0, r.FirstSeen)
	st.Level = level
	r.Escalation = &st
	r.Recipients = people
	r.Superiors = superiors
	if len(people) > 0 {
		r.Pages = append(r.Pages, Page{At: r.FirstSeen, People: people, Level: level, Why: why})
		r.event(Event{At: r.FirstSeen, What: EventPaged, Incident: r.Incident, Detail: names(people)})
	}
	if len(targets) > 0 && !slices.ContainsFunc(people, escalate.Reachable) {
		r.Unrouted = unroutedLabels(e.dir, r)
	}
}

func escKey(fp string, incident, seq int) string {
	return fmt.Sprintf("notifier/escalation/%s/%d/%d", fp, incident, seq)
}

// sentPage is the value of a sent escalation claim.
type sentPage struct {
	Page      Page     `json:"page"`
	Superiors []string `json:"superiors,omitempty"`
}

// tick pages r's due escalation steps. A replica that dies after sending
// leaves a sent claim, and whoever comes next only advances; one that dies
// before leaves a pending claim that expires. pre, when not nil, holds the
// silences and inhibition sources read already.
func (e *escalator) tick(ctx context.Context, r *Record, pre *premuted) error {
	for r.Status == StatusFiring && r.Escalation != nil {
		p, ok := e.byName[r.Escalation.Policy]
		if !ok {
			return nil // policy removed from the config since
		}
		now := e.clock.Now()
		step, due := p.Due(*r.Escalation, now)
		if !due {
			return nil
		}
		d := &delivery{rec: r}
		if pre != nil {
			d.silences, d.inhibitor = pre.silences, pre.inhibitor
		}
		if m, err := muted(ctx, d, e.inhibitor, e.silencer); err != nil || m {
			return err
		}
		seq := r.Escalation.Seq
		page, superiors, settled, err := e.claimAndPage(ctx, r, step, seq, now)
		if err != nil || !settled {
			return err
		}
		rec, err := e.advance(ctx, r, p, seq, page, superiors)
		if err != nil {
			return err
		}
		if page != nil {
			e.m.escalations.WithLabelValues(escalate.LevelName(page.Level, step.Targets)).Inc()
		}
		if rec == nil {
			return nil
		}
		r = rec
	}
	return nil
}

// claimAndPage pages step seq under its claim, or reads what another
// replica paged. settled says the step is over (paged, or given up on: page
// is nil then) and the record may advance past it; it is false while
// another replica is paging.
func (e *escalator) claimAndPage(ctx context.Context, r *Record, step escalate.Step, seq int, now time.Time) (page *Page, superiors []string, settled bool, err error) {
	key := escKey(r.Fingerprint, r.Incident, seq)
	won, err := e.claims.take(ctx, key)
	if err != nil {
		return nil, nil, false, err
	}
	if !won {
		v, ok, err := e.claims.value(ctx, key)
		if err != nil || !ok || v == logPending {
			return nil, nil, false, err // another replica is paging
		}
		if rest, ok := strings.CutPrefix(v, logSent+" "); ok {
			var sp sentPage
			if json.Unmarshal([]byte(rest), &sp) == nil {
				return &sp.Page, sp.Superiors, true, nil
			}
		}
		return nil, nil, true, nil
	}
	page, superiors, err = e.page(ctx, r, step, now, key)
	switch {
	case err == nil:
		// The claim keeps what was paged, so a replica that finds it
		// sent can record the page should this one die now.
		b, _ := json.Marshal(sentPage{Page: *page, Superiors: superiors})
		return page, superiors, true, e.claims.settle(ctx, key, logSent+" "+string(b))
	case !channel.Retryable(err):
		e.log.Error("escalation page failed for good", zap.String("fingerprint", r.Fingerprint), zap.Int("seq", seq), zap.Error(err))
		return nil, nil, true, e.claims.settle(ctx, key, logFailed)
	default:
		if derr := e.claims.release(ctx, key); derr != nil {
			err = errors.Join(err, derr)
		}
		return nil, nil, false, fmt.Errorf("escalate %s: %w", r.Fingerprint, err)
	}
}

// advance records page (when not nil) on the record and moves its
// escalation past step seq, unless that happened already. It returns the
// record as stored.
func (e *escalator) advance(ctx context.Context, r *Record, p *escalate.Policy, seq int, page *Page, superiors []string) (*Record, error) {
	rec, _, err := e.records.update(ctx, r.Fingerprint, func(cur *Record, _ time.Time) bool {
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
	return rec, err
}

// page sends one escalation step and returns what was paged and the
// superior units it reached.
func (e *escalator) page(ctx context.Context, r *Record, step escalate.Step, now time.Time, key string) (*Page, []string, error) {
	people, level, superiors := e.dir.Page(r.Alert.Labels[model.LabelUnit], step.Targets, r.Escalation.Level, now)
	mins := int(now.Sub(r.FirstSeen).Minutes())
	why := fmt.Sprintf("%d 分钟未确认", mins)
	if p := e.byName[r.Escalation.Policy]; r.Escalation.Next >= len(p.Steps) && len(r.Pages) > 0 {
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
		recv, ok := e.receivers[name]
		if !ok {
			continue
		}
		note := e.notes.one(name, r)
		note.ID = notificationID(key, name)
		note.Recipients = people
		if len(superiors) > 0 {
			tmp := *r
			tmp.Pages = append(append([]Page(nil), r.Pages...), *pg)
			tmp.Superiors = superiors
			note.Report = e.notes.reporter.render(&tmp, fmt.Sprintf("告警发出 %d 分钟内无人确认，按升级策略报送上级单位", mins))
		}
		if err := e.sender.send(ctx, recv, note); err != nil {
			errs = append(errs, fmt.Errorf("receiver %s: %w", name, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	e.log.Info("escalated", zap.String("fingerprint", r.Fingerprint), zap.Int("incident", r.Incident), zap.Int("level", level), zap.Int("people", len(people)))
	return pg, superiors, nil
}
