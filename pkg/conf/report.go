package conf

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Report is where a section's Validate writes its problems. Paths given to
// it are relative to the section ("" is the section itself, "keys[2].id" a
// value below it); the problems carry the file and line of the value.
//
// The helpers say what is wrong in the words every section uses, so one
// mistake reads the same wherever it is made.
type Report struct {
	pos   *Positions
	base  string
	probs *Problems
}

// NewReport returns a Report writing problems below base into probs,
// located with pos.
func NewReport(pos *Positions, base string, probs *Problems) *Report {
	return &Report{pos: pos, base: base, probs: probs}
}

// Path is the full path of sub.
func (r *Report) Path(sub string) string { return Join(r.base, sub) }

// At returns a Report for the value at sub.
func (r *Report) At(sub string) *Report {
	return &Report{pos: r.pos, base: r.Path(sub), probs: r.probs}
}

// Errorf records a problem at sub.
func (r *Report) Errorf(sub, format string, args ...any) {
	*r.probs = append(*r.probs, r.pos.Problem(r.Path(sub), format, args...))
}

// Count is how many problems the report's list holds, so a caller can tell
// whether a step added any.
func (r *Report) Count() int { return len(*r.probs) }

// AtLeast reports an integer below min.
func (r *Report) AtLeast(sub string, v, min int) {
	if v < min {
		r.Errorf(sub, "must be at least %d, not %d", min, v)
	}
}

// Between reports an integer outside [min, max].
func (r *Report) Between(sub string, v, min, max int) {
	if v < min || v > max {
		r.Errorf(sub, "must be %d to %d, not %d", min, max, v)
	}
}

// NotNegative reports a negative number.
func (r *Report) NotNegative(sub string, v float64) {
	if v < 0 {
		r.Errorf(sub, "must not be negative, not %v", v)
	}
}

// Positive reports a number that is not above 0.
func (r *Report) Positive(sub string, v float64) {
	if !(v > 0) {
		r.Errorf(sub, "must be above 0, not %v", v)
	}
}

// Fraction reports a number outside (0, 1].
func (r *Report) Fraction(sub string, v float64) {
	if !(v > 0 && v <= 1) {
		r.Errorf(sub, "must be above 0 and at most 1, not %v", v)
	}
}

// MinDuration reports a duration below min.
func (r *Report) MinDuration(sub string, d Duration, min time.Duration) {
	if d.D() < min {
		r.Errorf(sub, "must be at least %s, not %s", Duration(min), d)
	}
}

// OneOf reports a value that is not one of allowed; empty is allowed
// when allowed lists it.
func (r *Report) OneOf(sub, v string, allowed ...string) {
	if !slices.Contains(allowed, v) {
		r.Errorf(sub, "unknown value %q (%s)", v, orList(allowed))
	}
}

// URL reports a value that is not an http:// or https:// URL; an empty
// one only when required.
func (r *Report) URL(sub, u string, required bool) bool {
	if u == "" && !required {
		return true
	}
	if err := HTTPURL(u); err != nil {
		r.Errorf(sub, "%v", err)
		return false
	}
	return true
}

// Endpoint reports a URL that is not http(s) or that carries a query: the
// credential of a robot goes in a secret, never in its address (hint says
// where).
func (r *Report) Endpoint(sub, u, hint string) {
	if u == "" || !r.URL(sub, u, false) {
		return
	}
	if parsed, _ := url.Parse(u); parsed.RawQuery != "" {
		r.Errorf(sub, "the url must not carry a query: %s", hint)
	}
}

// Secret reports a secret given neither as a file nor as an environment
// variable: name is the keys' stem ("secret" for secret_file/secret_env),
// what says what it is. Whether the file is readable and the variable set
// is judged when decoding.
func (r *Report) Secret(name, what string, file File, env Env) {
	if file == "" && env == "" {
		r.Errorf(name+"_file", "no %s: set %s_file or %s_env", what, name, name)
	}
}

// Mobiles reports entries that are not phone numbers (digits, an optional
// leading +).
func (r *Report) Mobiles(sub string, mobiles []string) {
	for i, m := range mobiles {
		if !IsPhone(m) {
			r.Errorf(fmt.Sprintf("%s[%d]", sub, i), "%q is not a phone number (digits, optional leading +)", m)
		}
	}
}

// IsPhone reports whether s is digits with an optional leading +, 5 to 20 long.
func IsPhone(s string) bool {
	digits := strings.TrimPrefix(s, "+")
	if len(digits) < 5 || len(digits) > 20 {
		return false
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// HTTPURL checks that s is an absolute http:// or https:// URL.
func HTTPURL(s string) error {
	if s == "" {
		return fmt.Errorf("missing url")
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("bad url %q (want http:// or https://)", s)
	}
	return nil
}

// orList writes a, b or c.
func orList(vs []string) string {
	q := make([]string, 0, len(vs))
	for _, v := range vs {
		if v == "" {
			q = append(q, `""`)
			continue
		}
		q = append(q, v)
	}
	switch len(q) {
	case 0:
		return "none"
	case 1:
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}
