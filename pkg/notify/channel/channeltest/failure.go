package channeltest

import (
	"strings"
	"testing"

	"github.com/govwatch/govwatch/pkg/notify/channel"
)

// Failure checks a failed delivery as the retry stage and the logs will
// see it: err is not nil, is retryable exactly when retryable is set,
// contains want (any text when want is empty), and repeats none of secrets
// (tokens, keys, passwords, credentials in URLs).
func Failure(t *testing.T, err error, retryable bool, want string, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("got nil error, want one")
	}
	if got := channel.Retryable(err); got != retryable {
		t.Errorf("Retryable(%v) = %v, want %v", err, got, retryable)
	}
	msg := err.Error()
	if !strings.Contains(msg, want) {
		t.Errorf("error %q does not contain %q", msg, want)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			t.Errorf("error %q leaks %q", msg, s)
		}
	}
}

// Outcome checks a delivery's result against a table's row: nil when
// wantErr is unset, otherwise a failure as Failure checks it.
func Outcome(t *testing.T, err error, wantErr, retryable bool, want string, secrets ...string) {
	t.Helper()
	if !wantErr {
		if err != nil {
			t.Fatalf("got error %v, want none", err)
		}
		return
	}
	Failure(t, err, retryable, want, secrets...)
}
