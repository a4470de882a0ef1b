package ctrl

import (
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"
)

// firstWord applies Synchronet's rule for numbers, enums and bit fields:
// the value ends at the first white space, so "LogLevel = Debug trailing
// words" means Debug.
func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

// ParseSize parses a byte count: plain bytes or a number with a K, M, G or
// T suffix (powers of 1024, as Synchronet counts), optionally followed by
// B: "20M", "20MB", "512K", "1.5G", "1048576".
func ParseSize(s string) (int64, error) {
	v := strings.ToUpper(firstWord(s))
	num := strings.TrimSuffix(v, "B")
	mult := int64(1)
	if n := len(num); n > 0 {
		switch num[n-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		}
		if mult > 1 {
			num = num[:n-1]
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" || strings.ContainsAny(num, "eEnNxX") {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	if f < 0 {
		return 0, fmt.Errorf("negative size %q", s)
	}
	b := f * float64(mult)
	if b > math.MaxInt64/2 {
		return 0, fmt.Errorf("size %q too large", s)
	}
	return int64(b), nil
}

// ParseDuration parses a duration: a number with an optional unit suffix
// ms, s, m, h, d or w ("2m", "1h", "30s", "1.5h"); a plain number is in
// units of unit (seconds for most keys, milliseconds for
// LoginAttemptDelay/Throttle).
func ParseDuration(s string, unit time.Duration) (time.Duration, error) {
	v := strings.ToLower(firstWord(s))
	suffixes := []struct {
		s string
		d time.Duration
	}{{"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute},
		{"h", time.Hour}, {"d", 24 * time.Hour}, {"w", 7 * 24 * time.Hour}}
	mult := unit
	for _, suf := range suffixes {
		if strings.HasSuffix(v, suf.s) {
			v, mult = strings.TrimSuffix(v, suf.s), suf.d
			break
		}
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || v == "" || strings.ContainsAny(v, "enx") {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	if f < 0 {
		return 0, fmt.Errorf("negative duration %q", s)
	}
	d := f * float64(mult)
	if d > float64(math.MaxInt64/2) {
		return 0, fmt.Errorf("duration %q too large", s)
	}
	return time.Duration(d), nil
}

// ParseBool accepts true/false, yes/no, on/off and 1/0, case-insensitively.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(firstWord(s)) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean %q (want true or false)", s)
}

// parseInt parses a decimal (or 0x hexadecimal) integer within [lo, hi].
func parseInt(s string, lo, hi int64) (int64, error) {
	v := firstWord(s)
	base := 10
	if strings.HasPrefix(v, "0x") || strings.HasPrefix(v, "0X") {
		v, base = v[2:], 16
	}
	n, err := strconv.ParseInt(v, base, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid number %q", s)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%d out of range %d-%d", n, lo, hi)
	}
	return n, nil
}

// LogLevel is a syslog severity, 0 (Emergency) to 7 (Debugging), the scale
// sbbs.ini uses.
type LogLevel int

// The syslog severities.
const (
	LogEmergency LogLevel = iota
	LogAlert
	LogCritical
	LogError
	LogWarning
	LogNotice
	LogInfo
	LogDebug
)

var logLevelNames = [...]string{"Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debugging"}

// logLevelAlias maps the other spellings sysops use.
func logLevelAlias(s string) (LogLevel, bool) {
	switch strings.ToLower(s) {
	case "emerg", "panic":
		return LogEmergency, true
	case "crit":
		return LogCritical, true
	case "err":
		return LogError, true
	case "warn":
		return LogWarning, true
	case "info":
		return LogInfo, true
	case "debug":
		return LogDebug, true
	}
	return 0, false
}

// ParseLogLevel accepts a severity name (Emergency, Alert, Critical, Error,
// Warning, Notice, Informational/Info, Debugging/Debug; any case) or its
// number 0-7.
func ParseLogLevel(s string) (LogLevel, error) {
	v := firstWord(s)
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 || n > 7 {
			return 0, fmt.Errorf("invalid log level %q (0-7)", s)
		}
		return LogLevel(n), nil
	}
	for i, n := range logLevelNames {
		if strings.EqualFold(n, v) {
			return LogLevel(i), nil
		}
	}
	if l, ok := logLevelAlias(v); ok {
		return l, nil
	}
	return 0, fmt.Errorf("invalid log level %q (want Emergency, Alert, Critical, Error, Warning, Notice, Informational or Debugging)", s)
}

func (l LogLevel) String() string {
	if l >= 0 && int(l) < len(logLevelNames) {
		return logLevelNames[l]
	}
	return strconv.Itoa(int(l))
}

// Slog maps the severity onto log/slog's scale: Debugging is LevelDebug,
// Informational LevelInfo, Notice between Info and Warn, Warning LevelWarn,
// Error LevelError, and the three worse ones above LevelError, so a
// handler's minimum level filters like Synchronet's LogLevel.
func (l LogLevel) Slog() slog.Level {
	switch {
	case l >= LogDebug:
		return slog.LevelDebug
	case l == LogInfo:
		return slog.LevelInfo
	case l == LogNotice:
		return slog.LevelInfo + 2
	case l == LogWarning:
		return slog.LevelWarn
	}
	return slog.LevelError + 4*slog.Level(LogError-l)
}
