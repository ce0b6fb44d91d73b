package notify

import (
	"errors"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/notify/channel"
)

func TestRecordStage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, stores backend) {
		clock, st := stores.at(t, t2)
		l := testLifecycle(t, st, clock)
		c := &claims{store: st}
		m, _ := testMetrics(t)
		owed := &owedLog{store: st, clock: clock, keep: 24 * time.Hour, log: testLog(t), m: m}
		rs := &recordStage{claims: c, records: l, owed: owed, log: testLog(t)}
		ctx := testCtx(t)
		rec := stored(t, ctx, l, firing(t0, "x"))
		tests := []struct {
			name      string
			err       error
			wantErr   bool
			wantEntry string // "" : released
			wantEvent string // event added to the timeline; "": none
			wantOwed  bool
		}{
			{"sent: the log says sent, the timeline notified", nil, false, logSent, EventNotified, false},
			{"failed for good: the log says failed, the timeline notify_failed", channel.Permanent(errors.New("400")), false, logFailed, EventNotifyFailed, false},
			{"a retryable failure releases the claim and is owed", errors.New("timeout"), false, "", "", true},
		}
		events := len(rec.Timeline)
		for i, tc := range tests {
			recv := Receiver{Name: "r" + string(rune('a'+i))}
			key := nflogKey(recv.Name, rec.Fingerprint, rec.Incident, StatusFiring)
			if won, err := c.take(ctx, key); err != nil || !won {
				t.Fatalf("%s: claim: %v, %v", tc.name, won, err)
			}
			_, err := rs.Exec(ctx, &delivery{rec: rec, recv: recv, key: key, err: tc.err})
			if (err != nil) != tc.wantErr {
				t.Errorf("%s: error %v, want error %v", tc.name, err, tc.wantErr)
			}
			v, ok, err := c.value(ctx, key)
			if err != nil || ok != (tc.wantEntry != "") || v != tc.wantEntry {
				t.Errorf("%s: log entry %q (present %v, %v), want %q", tc.name, v, ok, err, tc.wantEntry)
			}
			cur, err := l.get(ctx, rec.Fingerprint)
			if err != nil {
				t.Fatal(err)
			}
			var added string
			if len(cur.Timeline) > events {
				added = cur.Timeline[len(cur.Timeline)-1].What
			}
			events = len(cur.Timeline)
			if added != tc.wantEvent {
				t.Errorf("%s: timeline event added %q, want %q", tc.name, added, tc.wantEvent)
			}
			_, err = st.Get(ctx, owedKey(rec.Fingerprint, recv.Name, rec.Incident, StatusFiring))
			if owed := err == nil; owed != tc.wantOwed {
				t.Errorf("%s: owed %v (%v), want %v", tc.name, owed, err, tc.wantOwed)
			}
		}
	})
}
