package collect

import (
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/bus"
	"github.com/govwatch/govwatch/pkg/bus/bustest"
	"github.com/govwatch/govwatch/pkg/collect/pace"
	"github.com/govwatch/govwatch/pkg/model"
)

// Two replicas repeat system.source_down on every failure past the
// threshold; JetStream keeps one firing and one resolution.
func TestSourceDownOnTheBusIsOneAlertFromAllReplicas(t *testing.T) {
	b := bustest.Open(t, bus.Options{})
	reg := testRegistry(t, 1)
	o := Options{Interval: time.Minute, FailureThreshold: 2, Backoff: pace.Backoff{Initial: time.Minute, Max: time.Minute}, Alerts: b}
	f := startFleet(t, openState(t), reg, 2, o)
	f.src.mu.Lock()
	f.src.fail = retryErr{}
	f.src.mu.Unlock()
	f.run(t, 8*time.Minute, time.Minute)
	f.src.mu.Lock()
	f.src.fail = nil
	f.src.mu.Unlock()
	f.run(t, 3*time.Minute, time.Minute)

	got := bustest.Alerts(t, b)
	for _, a := range got {
		if a.Name() != model.CategorySystemSourceDown {
			t.Errorf("alert %s, want only %s", a.Name(), model.CategorySystemSourceDown)
		}
	}
	if len(got) != 2 {
		t.Fatalf("%d alerts in the stream, want one firing and one resolution: %+v", len(got), got)
	}
	if !got[0].EndsAt.IsZero() || got[1].EndsAt.IsZero() || !got[0].StartsAt.Equal(got[1].StartsAt) {
		t.Errorf("stream holds %v→%v then %v→%v, want firing then resolved with one startsAt",
			got[0].StartsAt, got[0].EndsAt, got[1].StartsAt, got[1].EndsAt)
	}
}
