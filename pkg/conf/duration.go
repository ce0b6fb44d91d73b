package conf

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration that YAML writes as Go durations plus days:
// "90s", "10m", "14d", "1d12h".
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String writes the duration as ParseDuration reads it, shortest first:
// "14d", "1d12h", "1h", "90s", "1h30m".
func (d Duration) String() string {
	t := time.Duration(d)
	if t <= 0 {
		return t.String()
	}
	var b strings.Builder
	if days := t / (24 * time.Hour); days > 0 {
		b.WriteString(strconv.FormatInt(int64(days), 10) + "d")
		t -= days * 24 * time.Hour
		if t == 0 {
			return b.String()
		}
	}
	s := t.String()
	if t >= time.Minute {
		s = strings.TrimSuffix(s, "0s")
		if t >= time.Hour {
			s = strings.TrimSuffix(s, "0m")
		}
	}
	return b.String() + s
}

// ParseDuration reads "14d", "1d12h", "90s" and the like.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseUint(s[:i], 10, 32)
		if err != nil {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		days = time.Duration(n) * 24 * time.Hour
		s = s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("bad duration %q (use e.g. 30s, 10m, 2h, 14d)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration %q", s)
	}
	return days + d, nil
}

// UnmarshalYAML implements yaml.Unmarshaler; a bad value becomes a type error
// carrying its line, so it is reported together with the file's other problems.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode {
		err = fmt.Errorf("want a duration such as 10m or 14d")
	}
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration back in the form ParseDuration reads.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// ByteSize is a size in bytes written as "512", "64KiB", "8MiB" or "1GiB".
type ByteSize int64

// UnmarshalYAML implements yaml.Unmarshaler.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	s := strings.TrimSpace(n.Value)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.m
			break
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: bad size %q (use e.g. 512KiB, 8MiB)", n.Line, n.Value)}}
	}
	*b = ByteSize(v * mult)
	return nil
}

// String writes the size in the largest unit that divides it: 8MiB, 512.
func (b ByteSize) String() string {
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if b != 0 && int64(b)%u.m == 0 {
			return strconv.FormatInt(int64(b)/u.m, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(b), 10)
}

// MarshalYAML writes the size back in the form UnmarshalYAML reads.
func (b ByteSize) MarshalYAML() (any, error) { return b.String(), nil }
