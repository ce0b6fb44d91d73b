package text

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/govwatch/govwatch/pkg/calendar"
)

var (
	// explicitZone matches a date string ending in a zone: a numeric offset,
	// "Z" after a digit or an upper-case abbreviation after a space.
	explicitZone = regexp.MustCompile(`(?:[+-]\d{2}:?\d{2}|\dZ|\s[A-Z]{1,5})$`)
	// gmtOffset matches "… GMT+8", "… UTC+08:00", "…GMT-0330".
	gmtOffset = regexp.MustCompile(`^(.*?)\s*(?:GMT|UTC)\s*([+-])(\d{1,2})(?::?(\d{2}))?$`)
	// chinaStandard matches a trailing "CST", which Chinese feeds use for
	// China Standard Time, not US Central as gofeed reads it.
	chinaStandard = regexp.MustCompile(`\s+CST$`)
)

// zonelessLayouts are wall-clock layouts read in the feed's local zone.
var zonelessLayouts = []string{
	"2006年1月2日 15:04:05",
	"2006年1月2日 15:04",
	"2006年1月2日15:04",
	"2006年1月2日",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
	"2006/1/2 15:04:05",
	"2006/1/2 15:04",
	"2006/1/2",
	"Mon, 2 Jan 2006 15:04:05",
	"Mon, 2 Jan 2006 15:04",
	"2 Jan 2006 15:04:05",
	"Mon Jan 2 15:04:05 2006",
}

// ItemTime reads an item's time. raw is the string from the feed, parsed is
// what gofeed made of it (nil when it could not). A time without a zone, with
// "GMT+8" or "CST", or written as 年月日 is read in loc (Beijing time).
func ItemTime(raw string, parsed *time.Time, loc *time.Location) (time.Time, bool) {
	raw = strings.TrimSpace(raw)
	if m := gmtOffset.FindStringSubmatch(raw); m != nil {
		h, _ := strconv.Atoi(m[3])
		mins, _ := strconv.Atoi(m[4])
		off := (h*60 + mins) * 60
		if m[2] == "-" {
			off = -off
		}
		if t, ok := wallTime(m[1], parsed, time.FixedZone(m[2]+m[3], off)); ok {
			return t, true
		}
	}
	if chinaStandard.MatchString(raw) {
		if t, ok := wallTime(chinaStandard.ReplaceAllString(raw, ""), nil, loc); ok {
			return t, true
		}
		if parsed != nil {
			return inZone(*parsed, loc), true
		}
	}
	if parsed != nil && explicitZone.MatchString(raw) {
		return *parsed, true
	}
	return wallTime(raw, parsed, loc)
}

// wallTime reads s as a wall-clock time in loc. When s is none of the known
// layouts, the wall clock gofeed parsed (zone-less, so UTC) is moved to loc.
func wallTime(s string, parsed *time.Time, loc *time.Location) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range zonelessLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	if parsed != nil {
		return inZone(*parsed, loc), true
	}
	return time.Time{}, false
}

// inZone keeps t's wall clock and replaces its zone.
func inZone(t time.Time, loc *time.Location) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
}

// ParseTime reads a date as feeds and APIs write them: RFC 3339 and RFC
// 1123 with their zones, and otherwise the forms ItemTime knows (zone-less,
// GMT+8, CST, 2026年08月03日 10:00) in Beijing time. The result is UTC.
func ParseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, time.RFC1123Z, time.RFC1123, "2006-01-02 15:04:05Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil && (layout != time.RFC1123 || !strings.HasSuffix(s, "CST")) {
			return t.UTC(), true
		}
	}
	t, ok := ItemTime(s, nil, calendar.Shanghai)
	return t.UTC(), ok
}
