package main

import (
	"bytes"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"
)

func discardLogger() *slog.Logger { return slog.New(newLineHandler(io.Discard, slog.LevelError)) }

// Log lines read like Synchronet's: date, time, level word, message.
func TestLineHandler(t *testing.T) {
	var buf bytes.Buffer
	lv := new(slog.LevelVar)
	lv.Set(slog.LevelInfo)
	log := slog.New(newLineHandler(&buf, lv))
	log.Debug("hidden")
	log.Warn("SMTP host [1.2.3.4] ILLEGAL RELAY ATTEMPT", "to", "x@example.org")
	notice(log, "configuration reloaded")
	want := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d Warning  SMTP host \[1\.2\.3\.4\] ILLEGAL RELAY ATTEMPT to=x@example\.org\n` +
		`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d Notice   configuration reloaded\n$`)
	if !want.Match(buf.Bytes()) {
		t.Fatalf("log output:\n%s", buf.String())
	}
}

// A record is one line whatever a client put in its message or values:
// terminal controls and line ends are written as escapes.
func TestLineHandlerEscapesControls(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(newLineHandler(&buf, slog.LevelInfo))
	log.Warn("AUTH FAILURE for user 'x\r\n2026-12-07 00:00:00 Warning  SMTP [192.0.2.9] ILLEGAL RELAY ATTEMPT'",
		"user", "\x1b]0;owned\x07\u009b2J")
	want := `AUTH FAILURE for user 'x\x0d\x0a2026-12-07 00:00:00 Warning  SMTP [192.0.2.9] ILLEGAL RELAY ATTEMPT' user=\x1b]0;owned\x07\u009b2J` + "\n"
	if got := buf.String(); strings.Count(got, "\n") != 1 || !strings.HasSuffix(got, want) {
		t.Fatalf("log output %q, want a line ending in %q", got, want)
	}
}
