package notify

import (
	"errors"
	"testing"
	"time"
)

func TestClaimsStage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, stores backend) {
		_, st := stores.at(t, t2)
		c := &claims{store: st}
		ctx := testCtx(t)
		rec := &Record{Fingerprint: "fp", Incident: 1, Status: StatusFiring}
		done := &Record{Fingerprint: "fp", Incident: 1, Status: StatusResolved}
		d := func(r *Record) *delivery { return &delivery{rec: r, recv: Receiver{Name: "oncall"}} }
		firingKey := nflogKey("oncall", "fp", 1, StatusFiring)

		if got, err := c.Exec(ctx, d(done)); err != nil || got != nil {
			t.Errorf("a resolution nobody was told the firing of: got %v, %v, want the delivery ended", got, err)
		}
		got, err := c.Exec(ctx, d(rec))
		if err != nil || got == nil || got.key != firingKey {
			t.Fatalf("first claim: got %v, %v, want the delivery on with key %s", got, err, firingKey)
		}
		if v, _ := st.Get(ctx, firingKey); string(v) != logPending {
			t.Errorf("claim entry: got %q, want %q", v, logPending)
		}
		if _, err := c.Exec(ctx, d(rec)); !errors.Is(err, errSendingElsewhere) {
			t.Errorf("while claimed: got %v, want errSendingElsewhere", err)
		}
		for _, v := range []string{logSent, logFailed} {
			if err := c.settle(ctx, firingKey, v); err != nil {
				t.Fatal(err)
			}
			if got, err := c.Exec(ctx, d(rec)); err != nil || got != nil {
				t.Errorf("once %s: got %v, %v, want the delivery ended", v, got, err)
			}
		}
		// Told of the firing, the receiver hears of the resolution.
		if got, err := c.Exec(ctx, d(done)); err != nil || got == nil || got.key != nflogKey("oncall", "fp", 1, StatusResolved) {
			t.Errorf("resolution after the firing: got %v, %v, want it claimed", got, err)
		}
		// A released claim may be taken again at once.
		if err := c.release(ctx, firingKey); err != nil {
			t.Fatal(err)
		}
		if got, err := c.Exec(ctx, d(rec)); err != nil || got == nil {
			t.Errorf("after release: got %v, %v, want it claimed", got, err)
		}
	})
}

func TestClaimOfADeadReplicaExpires(t *testing.T) {
	clock, st := embeddedStores.at(t, t2)
	c := &claims{store: st}
	ctx := testCtx(t)
	rec := &Record{Fingerprint: "fp", Incident: 1, Status: StatusFiring}
	if got, err := c.Exec(ctx, &delivery{rec: rec, recv: Receiver{Name: "r"}}); err != nil || got == nil {
		t.Fatalf("first claim: %v, %v", got, err)
	}
	// The claimant dies; until ClaimTTL passes nobody else may send.
	clock.Advance(ClaimTTL - time.Second)
	if _, err := c.Exec(ctx, &delivery{rec: rec, recv: Receiver{Name: "r"}}); !errors.Is(err, errSendingElsewhere) {
		t.Fatalf("before ClaimTTL: got %v, want errSendingElsewhere", err)
	}
	clock.Advance(2 * time.Second)
	if got, err := c.Exec(ctx, &delivery{rec: rec, recv: Receiver{Name: "r"}}); err != nil || got == nil {
		t.Errorf("after ClaimTTL: got %v, %v, want it claimed", got, err)
	}
}

// TestClaimResumedFromDeadReplica: a replica that died holding a claim
// (its liveness entry ran out) has the claim resumed by another at once;
// a live one's claim is left alone.
func TestClaimResumedFromDeadReplica(t *testing.T) {
	forEachBackend(t, func(t *testing.T, stores backend) {
		_, st := stores.at(t, t2)
		ctx := testCtx(t)
		a := &claims{store: st, replica: "a", lease: time.Hour}
		b := &claims{store: st, replica: "b", lease: time.Hour}
		key := nflogKey("oncall", "fp", 1, StatusFiring)
		if won, err := a.claim(ctx, key); err != nil || !won {
			t.Fatalf("a's claim: got %v, %v, want won", won, err)
		}
		if v, _ := st.Get(ctx, key); string(v) != logPending+" a" {
			t.Errorf("claim entry: got %q, want it to name replica a", v)
		}
		if _, err := b.claim(ctx, key); !errors.Is(err, errSendingElsewhere) {
			t.Errorf("while a is alive: got %v, want errSendingElsewhere", err)
		}
		// a dies: its liveness entry runs out.
		if err := st.Delete(ctx, replicaKey("a")); err != nil {
			t.Fatal(err)
		}
		if won, err := b.claim(ctx, key); err != nil || !won {
			t.Fatalf("after a died: got %v, %v, want b to resume the claim", won, err)
		}
		if v, _ := st.Get(ctx, key); string(v) != logPending+" b" {
			t.Errorf("resumed claim entry: got %q, want it to name replica b", v)
		}
		if won, err := a.claim(ctx, key); err == nil || won {
			t.Errorf("a back with the same name while b holds it: got %v, %v, want refused", won, err)
		}
		if err := b.settle(ctx, key, logSent); err != nil {
			t.Fatal(err)
		}
		if won, err := a.claim(ctx, key); err != nil || won {
			t.Errorf("once sent: got %v, %v, want the delivery ended", won, err)
		}
	})
}
