package main

import (
	"bytes"
	"io"
	"log/slog"
	"regexp"
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
