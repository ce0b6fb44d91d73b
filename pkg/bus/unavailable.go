package bus

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Unavailable marks err as "a dependency is down": the message is fine and
// will be handled once the store, Redis or NATS answers again. A handler
// returning it does not spend a delivery: the consumer holds the message,
// pauses and retries it when the dependency check passes. Unavailable(nil)
// is nil.
func Unavailable(err error) error {
	if err == nil {
		return nil
	}
	return &unavailableError{err: err}
}

type unavailableError struct{ err error }

func (e *unavailableError) Error() string { return "dependency unavailable: " + e.err.Error() }
func (e *unavailableError) Unwrap() error { return e.err }

// IsUnavailable reports whether err, or an error it wraps, says a
// dependency is down rather than the message is bad: one marked with
// Unavailable, a network error (refused, reset, timed out — what go-redis
// returns while Redis is stopped or unreachable), an unexpected end of a
// connection, a NATS connection or JetStream response failure, or a
// deadline that ran out while waiting for one of those. A Permanent error is
// never unavailable.
func IsUnavailable(err error) bool {
	if err == nil || IsPermanent(err) {
		return false
	}
	var u *unavailableError
	if errors.As(err, &u) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	for _, target := range unavailableErrs {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

var unavailableErrs = []error{
	syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EPIPE, syscall.ETIMEDOUT, syscall.EHOSTUNREACH, syscall.ENETUNREACH,
	io.EOF, io.ErrUnexpectedEOF, context.DeadlineExceeded,
	nats.ErrConnectionClosed, nats.ErrConnectionDraining, nats.ErrConnectionReconnecting, nats.ErrDisconnected,
	nats.ErrTimeout, nats.ErrNoResponders, jetstream.ErrNoStreamResponse,
}
