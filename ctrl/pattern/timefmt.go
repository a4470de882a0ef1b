package pattern

import (
	"fmt"
	"strings"
	"time"
)

// isoLayouts are the ISO-8601 forms accepted in t= and e= metadata:
// Synchronet writes the basic form with a numeric zone
// (20250301T123456-0800); sysops also write the extended form or a date.
var isoLayouts = [...]string{
	"20060102T150405Z0700",
	"20060102T150405Z07:00",
	"20060102T150405",
	"20060102T1504Z0700",
	"20060102T1504",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05",
	"20060102",
	"2006-01-02",
}

// ParseTime parses an ISO-8601 date/time from pattern metadata. A time
// without a zone is local time, as Synchronet writes it. Fractional
// seconds are accepted.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '.'); i > 0 {
		// Drop fractional seconds: "...T123456.789-0800".
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		s = s[:i] + s[j:]
	}
	for _, layout := range isoLayouts {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid ISO-8601 time %q", s)
}

// FormatTime formats t the way Synchronet writes filter metadata: ISO-8601
// basic form in local time with a numeric zone, e.g. 20250301T123456-0800.
func FormatTime(t time.Time) string {
	return t.Local().Format("20060102T150405-0700")
}
