package notify

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// stageFunc makes a function a stage, for tests of the plumbing.
type stageFunc func(ctx context.Context, d *delivery) (*delivery, error)

func (f stageFunc) Exec(ctx context.Context, d *delivery) (*delivery, error) { return f(ctx, d) }

// splitFunc makes a function a splitter.
type splitFunc func(d *delivery) []*delivery

func (f splitFunc) split(d *delivery) []*delivery { return f(d) }

func TestChainStopsAtTheFirstStageThatEnds(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name    string
		second  stage
		wantRan []string
		wantErr error
		wantOut bool
	}{
		{"every stage runs", stageFunc(func(_ context.Context, d *delivery) (*delivery, error) { return d, nil }), []string{"first", "second", "third"}, nil, true},
		{"nil ends the delivery quietly", stageFunc(func(context.Context, *delivery) (*delivery, error) { return nil, nil }), []string{"first", "second"}, nil, false},
		{"an error ends it", stageFunc(func(context.Context, *delivery) (*delivery, error) { return nil, boom }), []string{"first", "second"}, boom, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ran []string
			mark := func(name string, next stage) stage {
				return stageFunc(func(ctx context.Context, d *delivery) (*delivery, error) {
					ran = append(ran, name)
					if next != nil {
						return next.Exec(ctx, d)
					}
					return d, nil
				})
			}
			out, err := chain(mark("first", nil), mark("second", tc.second), mark("third", nil)).Exec(context.Background(), &delivery{})
			if !slices.Equal(ran, tc.wantRan) {
				t.Errorf("stages run: got %q, want %q", ran, tc.wantRan)
			}
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("error: got %v, want %v", err, tc.wantErr)
			}
			if (out != nil) != tc.wantOut {
				t.Errorf("delivery out: got %v, want one: %v", out, tc.wantOut)
			}
		})
	}
}

func TestFanoutRunsEveryReceiverAndNamesItsErrors(t *testing.T) {
	split := splitFunc(func(d *delivery) []*delivery {
		var out []*delivery
		for _, name := range []string{"a", "b", "c"} {
			one := *d
			one.recv = Receiver{Name: name}
			out = append(out, &one)
		}
		return out
	})
	var mu sync.Mutex
	var ran []string
	bStarted := make(chan struct{})
	next := stageFunc(func(_ context.Context, d *delivery) (*delivery, error) {
		mu.Lock()
		ran = append(ran, d.recv.Name)
		mu.Unlock()
		switch d.recv.Name {
		case "a": // a slow receiver: the others go on meanwhile
			select {
			case <-bStarted:
			case <-time.After(10 * time.Second):
				t.Error("receiver b did not start while a was still sending")
			}
			return nil, errors.New("down")
		case "b":
			close(bStarted)
			return d, nil
		}
		return nil, errors.New("down")
	})
	_, err := fanout(split, next).Exec(context.Background(), &delivery{})
	slices.Sort(ran)
	if want := []string{"a", "b", "c"}; !slices.Equal(ran, want) {
		t.Errorf("receivers run: got %q, want %q (a failure must not stop the others)", ran, want)
	}
	if err == nil || !strings.Contains(err.Error(), "receiver a: down") || !strings.Contains(err.Error(), "receiver c: down") || strings.Contains(err.Error(), "receiver b") {
		t.Errorf("error: got %v, want receivers a and c named", err)
	}
}
