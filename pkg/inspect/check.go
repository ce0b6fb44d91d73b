package inspect

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Source supplies the facts of one account over a period: the history
// database in a deployment.
type Source interface {
	Facts(ctx context.Context, a Account, p Period) (*Facts, error)
}

// Spec is what a check is asked to do.
type Spec struct {
	// Scope names what was checked (a unit id or a region code), for the
	// record; Accounts are the accounts under it, as filed.
	Scope    string
	Accounts []Account
	Period   Period
	// Ratio is the share checked, 1 for the quarterly 100% check; Seed
	// draws a spot check's sample.
	Ratio float64
	Seed  uint64
	// Workers read facts at once; 0: 4.
	Workers int
}

// Check is a check's outcome.
type Check struct {
	Scope        string    `json:"scope"`
	RulesVersion string    `json:"rules_version"`
	From         time.Time `json:"from"`
	At           time.Time `json:"at"`
	Ratio        float64   `json:"ratio"`
	Seed         uint64    `json:"seed"`
	Filed        int       `json:"filed"`
	Results      []Result  `json:"results"` // by account id
}

// Run draws the accounts of spec, reads each one's facts from src and
// judges them by rules. It stops at the first error reading facts.
func Run(ctx context.Context, rules *Rules, src Source, spec Spec) (*Check, error) {
	byID := make(map[string]Account, len(spec.Accounts))
	ids := make([]string, 0, len(spec.Accounts))
	for _, a := range spec.Accounts {
		if _, dup := byID[a.ID]; !dup {
			ids = append(ids, a.ID)
		}
		byID[a.ID] = a
	}
	c := &Check{Scope: spec.Scope, RulesVersion: rules.Version, From: spec.Period.From, At: spec.Period.At,
		Ratio: spec.Ratio, Seed: spec.Seed, Filed: len(ids)}
	if len(ids) == 0 {
		return c, nil
	}
	picked, err := Sample(ids, spec.Ratio, spec.Seed)
	if err != nil {
		return nil, err
	}
	c.Results = make([]Result, len(picked))
	workers := spec.Workers
	if workers <= 0 {
		workers = 4
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(picked)) {
		wg.Go(func() {
			for i := range next {
				a := byID[picked[i]]
				f, err := src.Facts(ctx, a, spec.Period)
				if err != nil {
					cancel(fmt.Errorf("facts of account %s: %w", a.ID, err))
					continue
				}
				f.Account = a
				c.Results[i] = Evaluate(rules, f, spec.Period)
			}
		})
	}
feed:
	for i := range picked {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Tally is how a set of results came out.
type Tally struct {
	Checked int `json:"checked"`
	Failed  int `json:"failed"`
}

// PassRate is the share that passed (合格率), 1 for none checked.
func (t Tally) PassRate() float64 {
	if t.Checked == 0 {
		return 1
	}
	return float64(t.Checked-t.Failed) / float64(t.Checked)
}

// Summary is the 通报's 总体情况: the whole check and by platform.
type Summary struct {
	Filed      int              `json:"filed"`
	All        Tally            `json:"all"`
	ByPlatform map[string]Tally `json:"by_platform"`
	// ByClass counts the accounts failing each 问题类别, veto items'
	// classes in VetoClasses.
	ByClass     map[string]int `json:"by_class"`
	VetoClasses []string       `json:"veto_classes"`
}

// Summarize tallies c.
func (c *Check) Summarize() Summary {
	s := Summary{Filed: c.Filed, ByPlatform: map[string]Tally{}, ByClass: map[string]int{}}
	veto := map[string]bool{}
	for _, r := range c.Results {
		t := s.ByPlatform[r.Account.Platform]
		t.Checked++
		s.All.Checked++
		if !r.Passed {
			t.Failed++
			s.All.Failed++
		}
		s.ByPlatform[r.Account.Platform] = t
		classes := map[string]bool{}
		for _, f := range r.Findings {
			if !classes[f.Class] {
				classes[f.Class] = true
				s.ByClass[f.Class]++
			}
			if f.Veto {
				veto[f.Class] = true
			}
		}
	}
	for cl := range veto {
		s.VetoClasses = append(s.VetoClasses, cl)
	}
	sort.Strings(s.VetoClasses)
	return s
}
