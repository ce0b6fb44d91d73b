package channel

import (
	"errors"
	"fmt"
	"testing"
)

func TestRetryable(t *testing.T) {
	base := errors.New("status 503")
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", base, true},
		{"permanent", Permanent(base), false},
		{"wrapped permanent", fmt.Errorf("notify ops: %w", Permanent(base)), false},
		{"permanent of wrapped", Permanent(fmt.Errorf("post: %w", base)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Retryable(tt.err); got != tt.want {
				t.Errorf("Retryable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestPermanent(t *testing.T) {
	base := errors.New("status 400")
	if got := Permanent(nil); got != nil {
		t.Errorf("Permanent(nil) = %v, want nil", got)
	}
	err := Permanent(base)
	if !errors.Is(err, base) {
		t.Errorf("errors.Is(Permanent(base), base) = false, want true")
	}
	if got, want := err.Error(), "status 400"; got != want {
		t.Errorf("Permanent(base).Error() = %q, want %q", got, want)
	}
}
