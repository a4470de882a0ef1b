package ctrl_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/ctrl"
)

func TestParseSize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{"20M": 20 << 20, "20MB": 20 << 20, "512K": 512 << 10, "1G": 1 << 30,
		"1048576": 1 << 20, "0": 0, "1.5k": 1536, "20m trailing words": 20 << 20, "100b": 100} {
		if got, err := ctrl.ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "20Q", "M", "-1K", "1e9", "0x10"} {
		if _, err := ctrl.ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		unit time.Duration
		want time.Duration
	}{
		{"2m", time.Second, 2 * time.Minute},
		{"1h", time.Second, time.Hour},
		{"30s", time.Second, 30 * time.Second},
		{"120", time.Second, 2 * time.Minute},
		{"1.5h", time.Second, 90 * time.Minute},
		{"1d", time.Second, 24 * time.Hour},
		{"5000", time.Millisecond, 5 * time.Second}, // LoginAttemptDelay is in ms
		{"5s", time.Millisecond, 5 * time.Second},
		{"250ms", time.Second, 250 * time.Millisecond},
		{"10M", time.Second, 10 * time.Minute},
		{"2m ; two minutes", time.Second, 2 * time.Minute},
	}
	for _, tt := range tests {
		if got, err := ctrl.ParseDuration(tt.in, tt.unit); err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q, %v) = %v, %v; want %v", tt.in, tt.unit, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "2x", "m", "-5s", "ten"} {
		if _, err := ctrl.ParseDuration(in, time.Second); err == nil {
			t.Errorf("ParseDuration(%q) accepted", in)
		}
	}
}

func TestParseBool(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"true", "YES", "on", "1", "True trailing"} {
		if b, err := ctrl.ParseBool(in); err != nil || !b {
			t.Errorf("ParseBool(%q) = %v, %v", in, b, err)
		}
	}
	for _, in := range []string{"false", "No", "OFF", "0"} {
		if b, err := ctrl.ParseBool(in); err != nil || b {
			t.Errorf("ParseBool(%q) = %v, %v", in, b, err)
		}
	}
	if _, err := ctrl.ParseBool("maybe"); err == nil {
		t.Error("ParseBool(maybe) accepted")
	}
}

func TestLogLevels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want ctrl.LogLevel
		slog slog.Level
	}{
		{"Debugging", ctrl.LogDebug, slog.LevelDebug},
		{"debug", ctrl.LogDebug, slog.LevelDebug},
		{"Info", ctrl.LogInfo, slog.LevelInfo},
		{"Informational", ctrl.LogInfo, slog.LevelInfo},
		{"Notice", ctrl.LogNotice, slog.LevelInfo + 2},
		{"Warning", ctrl.LogWarning, slog.LevelWarn},
		{"Error", ctrl.LogError, slog.LevelError},
		{"Critical", ctrl.LogCritical, slog.LevelError + 4},
		{"Alert", ctrl.LogAlert, slog.LevelError + 8},
		{"Emergency", ctrl.LogEmergency, slog.LevelError + 12},
		{"3", ctrl.LogError, slog.LevelError},
		{"Debug trailing words", ctrl.LogDebug, slog.LevelDebug},
	}
	for _, tt := range tests {
		got, err := ctrl.ParseLogLevel(tt.in)
		if err != nil || got != tt.want || got.Slog() != tt.slog {
			t.Errorf("ParseLogLevel(%q) = %v (%v), %v; want %v (%v)", tt.in, got, got.Slog(), err, tt.want, tt.slog)
		}
	}
	for _, in := range []string{"8", "-1", "Verbose"} {
		if _, err := ctrl.ParseLogLevel(in); err == nil {
			t.Errorf("ParseLogLevel(%q) accepted", in)
		}
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	o, err := ctrl.ParseOptions(" allow_pop3|TLS_POP3 |  Mute | ALLOW_RX_BY_NUMBER ")
	if err != nil {
		t.Fatal(err)
	}
	if !o.Has(ctrl.AllowPOP3|ctrl.TLSPOP3|ctrl.Mute|ctrl.AllowRxByNumber) || o.Has(ctrl.NoReadPOP3) {
		t.Errorf("options = %v", o)
	}
	if o.String() != "ALLOW_POP3 | TLS_POP3 | MUTE | ALLOW_RX_BY_NUMBER" {
		t.Errorf("String() = %q", o.String())
	}
	// ALLOW_RX_BY_NUMBER and NO_READ_POP3 are different bits.
	n, _ := ctrl.ParseOptions("NO_READ_POP3")
	if n.Has(ctrl.AllowRxByNumber) || ctrl.NoReadPOP3 != 1<<7 {
		t.Error("NO_READ_POP3 and ALLOW_RX_BY_NUMBER share a bit")
	}
	for _, in := range []string{"ALLOW_POP3|TLS_POP", "ALLOW_POP3 TLS_POP3"} {
		if _, err := ctrl.ParseOptions(in); err == nil {
			t.Errorf("ParseOptions(%q) accepted", in)
		}
	}
	// Every named flag round-trips through String.
	all := ctrl.Options(1<<33 - 1)
	back, err := ctrl.ParseOptions(all.String())
	if err != nil || back != all {
		t.Errorf("round trip of all flags: %v, %v", back, err)
	}
}

// TestFallbacksAndDefaults checks the [Global] fallbacks a sysop relies on:
// POP3Interface follows the GLOBAL Interface even when [Mail] sets its own,
// an empty [Mail] value means "use [Global]", and absent Options means
// ALLOW_POP3 only.
func TestFallbacksAndDefaults(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "ctrl")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ini := "[Global]\nInterface = 10.0.0.1\nLogLevel = Debugging\nTempDirectory = /var/tmp/bbs\nHostName = global.example\n" +
		"[Mail]\nInterface = 10.0.0.2\nLogLevel =\nHostName = mail.example\n"
	if err := os.WriteFile(filepath.Join(dir, "sbbs.ini"), []byte(ini), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := ctrl.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := c.Mail
	switch {
	case strings.Join(m.Interfaces, ",") != "10.0.0.2":
		t.Errorf("Interface = %v, want [Mail]'s", m.Interfaces)
	case strings.Join(m.POP3Interfaces, ",") != "10.0.0.1":
		t.Errorf("POP3Interface = %v, want the [Global] Interface", m.POP3Interfaces)
	case m.LogLevel != ctrl.LogDebug:
		t.Errorf("empty [Mail] LogLevel gave %v, want [Global]'s Debugging", m.LogLevel)
	case m.HostName != "mail.example":
		t.Errorf("HostName = %q", m.HostName)
	case c.Paths.Temp != "/var/tmp/bbs":
		t.Errorf("Temp = %q, want [Global] TempDirectory", c.Paths.Temp)
	case m.Options != ctrl.AllowPOP3:
		t.Errorf("Options without the key = %v, want ALLOW_POP3", m.Options)
	case m.MaxClients != 100 || m.MaxInactivity != 120*time.Second || m.RescanFrequency != time.Hour ||
		m.MaxMsgSize != 20971520 || m.MaxDeliveryAttempts != 50 || m.LoginAttemptDelay != 5*time.Second ||
		m.SendMailConcurrency != 16 || m.SendMailPerHost != 8 || m.MXPort != 25 || m.MaxBadCommands != 10 ||
		m.SendMailRefusePrivate:
		t.Errorf("code defaults not applied: %+v", m)
	}
}

func TestUnknownMailKeyIsWarned(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "ctrl")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sbbs.ini"), []byte("[Mail]\nMaxInactivty = 5m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := ctrl.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(c.Warnings, "\n"), "sbbs.ini:2: [Mail] MaxInactivty: unknown key") {
		t.Errorf("a misspelt key is not reported: %q", c.Warnings)
	}
}

// An older sbbs.ini's retired or unknown Options names start the server with
// a warning, as Synchronet ignores them; a near miss of a known name and
// names run together without '|' still stop it, naming the flag meant.
func TestOptionsUnknownNames(t *testing.T) {
	t.Parallel()
	cases := []struct {
		options string
		want    ctrl.Options
		warn    string // "" = no warning; "error: ..." = Load fails with this text
	}{
		{"ALLOW_POP3 | LOCAL_TIMEZONE", ctrl.AllowPOP3, "Options: LOCAL_TIMEZONE: old releases' local time zone flag: no effect in bbsmail"},
		{"ALLOW_POP3|DNSBL_DEBUG", ctrl.AllowPOP3, "Options: DNSBL_DEBUG: Synchronet's DNSBL debug logging: no effect in bbsmail"},
		{"FROBNICATE_EVERYTHING|TLS_POP3", ctrl.TLSPOP3, "Options: FROBNICATE_EVERYTHING: unknown option ignored"},
		{"allow_pop3 | tls_pop3", ctrl.AllowPOP3 | ctrl.TLSPOP3, ""},
		{"ALLOW_POP3|TLS_POP", 0, `error: unknown option "TLS_POP" (did you mean TLS_POP3?)`},
		{"ALLOW_RELAI", 0, `error: unknown option "ALLOW_RELAI" (did you mean ALLOW_RELAY?)`},
		{"ALLOW_POP3 TLS_POP3", 0, `error: unknown option "ALLOW_POP3 TLS_POP3" (did you mean ALLOW_POP3 | TLS_POP3?)`},
	}
	for _, tc := range cases {
		dir := filepath.Join(t.TempDir(), "ctrl")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		ini := "[Mail]\nOptions = " + tc.options + "\n"
		if err := os.WriteFile(filepath.Join(dir, "sbbs.ini"), []byte(ini), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := ctrl.Load(dir)
		if want, ok := strings.CutPrefix(tc.warn, "error: "); ok {
			if err == nil || !strings.Contains(err.Error(), "sbbs.ini:2: [Mail] Options: "+want) {
				t.Errorf("Options = %s: error %v, want %q", tc.options, err, want)
			}
			continue
		}
		if err != nil {
			t.Errorf("Options = %s: %v", tc.options, err)
			continue
		}
		if c.Mail.Options != tc.want {
			t.Errorf("Options = %s: got %v, want %v", tc.options, c.Mail.Options, tc.want)
		}
		warnings := strings.Join(c.Warnings, "\n")
		if tc.warn == "" && strings.Contains(warnings, "Options") {
			t.Errorf("Options = %s: unexpected warning %q", tc.options, warnings)
		}
		if tc.warn != "" && !strings.Contains(warnings, "sbbs.ini:2: [Mail] "+tc.warn) {
			t.Errorf("Options = %s: warnings %q, want %q", tc.options, warnings, tc.warn)
		}
	}
}

// Keys of older releases and options bbsmail does not act on load with a
// notice that says so, never silently and never as an unknown key; the
// RateLimitFilter* keys are read.
func TestSettingsWithoutEffectAreNoticed(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "ctrl")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ini := "[Mail]\nNewMailNotice = %.0s\\1n\\1mNew e-mail from \\1h%s\nForwardNotice = forwarded to %s\n" +
		"Options = ALLOW_POP3 | SMTP_AUTH_VIA_IP\nRateLimitFilterThreshold = 3\nRateLimitFilterDuration = 1h\n" +
		"RateLimitFilterSilent = true\nRateLimitFilterSubnetThreshold = 0\n"
	if err := os.WriteFile(filepath.Join(dir, "sbbs.ini"), []byte(ini), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := ctrl.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	notices := strings.Join(c.Notices, "\n")
	for _, want := range []string{
		"sbbs.ini:2: [Mail] NewMailNotice: no effect in bbsmail",
		"sbbs.ini:3: [Mail] ForwardNotice: no effect in bbsmail",
		"sbbs.ini:4: [Mail] Options: SMTP_AUTH_VIA_IP: no effect in bbsmail",
	} {
		if !strings.Contains(notices, want) {
			t.Errorf("notices lack %q:\n%s", want, notices)
		}
	}
	if w := strings.Join(c.Warnings, "\n"); strings.Contains(w, "[Mail]") {
		t.Errorf("warnings: %s", w)
	}
	m := c.Mail
	if m.RateLimitFilterThreshold != 3 || m.RateLimitFilterDuration != time.Hour || !m.RateLimitFilterSilent || m.RateLimitFilterSubnetThreshold != 1 {
		t.Errorf("RateLimitFilter*: %d %v %t %d", m.RateLimitFilterThreshold, m.RateLimitFilterDuration, m.RateLimitFilterSilent, m.RateLimitFilterSubnetThreshold)
	}
}
