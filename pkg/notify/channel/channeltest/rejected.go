package channeltest

import "testing"

// Rejected is a configuration a channel's New must refuse: its config and
// runtime options, by name.
type Rejected[C, O any] struct {
	Name    string
	Config  C
	Options O
}

// NewRejects runs newChannel on each case, as a subtest of its name, and
// fails those it accepts.
func NewRejects[C, O, T any](t *testing.T, newChannel func(C, O) (T, error), cases []Rejected[C, O]) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if _, err := newChannel(c.Config, c.Options); err == nil {
				t.Errorf("New(%+v): got nil error, want one", c.Config)
			}
		})
	}
}
