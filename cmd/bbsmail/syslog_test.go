package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/bbsmail/bbsmail/ctrl"
)

// fakeSyslog stands in for /dev/log: syslogSocket points at it for the
// test.
func fakeSyslog(t *testing.T) *net.UnixConn {
	t.Helper()
	c, path := listenUnixgram(t, "log")
	old := syslogSocket
	syslogSocket = path
	t.Cleanup(func() { syslogSocket = old })
	return c
}

// Daemonized, with [UNIX] LogFacility and LogIdent, each record is one syslog(3)
// datagram: the facility and the level's severity in the priority, the
// ident and pid, the level word and the message; nothing is written to
// standard error.
func TestSyslogOutput(t *testing.T) {
	c := fakeSyslog(t)
	var stderr bytes.Buffer
	lv := new(slog.LevelVar)
	lv.Set(slog.LevelDebug)
	h, warn := serveLogHandler(ctrl.Unix{Daemonize: true, LogFacility: ctrl.FacilityLocal0 + 3, LogIdent: "bbs"}, &stderr, lv)
	if warn != "" {
		t.Fatal(warn)
	}
	log := slog.New(h)
	log.Warn("SMTP host [192.0.2.7] ILLEGAL RELAY ATTEMPT", "to", "x@example.org")
	notice(log, "configuration reloaded")
	log.Error("mailbase\nbroken")
	log.Debug("SMTP [192.0.2.7] RX: QUIT")
	log.Log(context.Background(), slog.LevelError+4, "out of disk")
	pid := os.Getpid()
	for _, want := range []struct {
		pri  int
		text string
	}{
		{19<<3 | 4, `Warning  SMTP host \[192\.0\.2\.7\] ILLEGAL RELAY ATTEMPT to=x@example\.org`},
		{19<<3 | 5, `Notice   configuration reloaded`},
		{19<<3 | 3, `Error    mailbase\\x0abroken`},
		{19<<3 | 7, `Debug    SMTP \[192\.0\.2\.7\] RX: QUIT`},
		{19<<3 | 2, `Critical out of disk`},
	} {
		got := readDatagram(t, c)
		re := regexp.MustCompile(fmt.Sprintf(`^<%d>[A-Z][a-z][a-z] [ 0-9]\d \d\d:\d\d:\d\d bbs\[%d\]: %s$`, want.pri, pid, want.text))
		if !re.MatchString(got) {
			t.Errorf("datagram %q, want it to match %s", got, re)
		}
	}
	if stderr.Len() != 0 {
		t.Errorf("standard error got %q, want nothing while syslog takes the lines", stderr.String())
	}
}

// LogIdent alone logs on USER; LogFacility alone uses the ident bbsmail.
func TestSyslogDefaults(t *testing.T) {
	c := fakeSyslog(t)
	for _, tc := range []struct {
		u    ctrl.Unix
		want string
	}{
		{ctrl.Unix{Daemonize: true, LogIdent: "synchronet"}, fmt.Sprintf("<14>... .. ..:..:.. synchronet\\[%d\\]: Info     hello", os.Getpid())},
		{ctrl.Unix{Daemonize: true, LogFacility: ctrl.FacilityMail}, fmt.Sprintf("<22>... .. ..:..:.. bbsmail\\[%d\\]: Info     hello", os.Getpid())},
	} {
		h, warn := serveLogHandler(tc.u, &bytes.Buffer{}, slog.LevelInfo)
		if warn != "" {
			t.Fatal(warn)
		}
		slog.New(h).Info("hello")
		if got := readDatagram(t, c); !regexp.MustCompile("^" + tc.want + "$").MatchString(got) {
			t.Errorf("%+v: datagram %q, want %q", tc.u, got, tc.want)
		}
	}
}

// Without a syslog socket the lines stay on standard error, after a
// warning that says why.
func TestSyslogMissingSocket(t *testing.T) {
	old := syslogSocket
	syslogSocket = filepath.Join(t.TempDir(), "nothing")
	defer func() { syslogSocket = old }()
	var stderr bytes.Buffer
	h, warn := serveLogHandler(ctrl.Unix{Daemonize: true, LogFacility: ctrl.FacilityUser}, &stderr, slog.LevelInfo)
	if !regexp.MustCompile(`^sbbs.ini \[UNIX\] Daemonize: syslog: .*; logging to standard error instead$`).MatchString(warn) {
		t.Errorf("warning %q", warn)
	}
	slog.New(h).Info("hello")
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d Info     hello\n$`).MatchString(stderr.String()) {
		t.Errorf("standard error %q", stderr.String())
	}
}

// Without Daemonize nothing goes to syslog, even with LogFacility and
// LogIdent set, as in Synchronet's stock sbbs.ini.
func TestSyslogOff(t *testing.T) {
	for _, u := range []ctrl.Unix{{}, {LogFacility: ctrl.FacilityUser, LogIdent: "synchronet"}} {
		h, warn := serveLogHandler(u, &bytes.Buffer{}, slog.LevelInfo)
		if warn != "" || h.ident != "" || h.pid != 0 {
			t.Errorf("%+v: handler %+v, warning %q", u, h, warn)
		}
	}
}

// Under the journal the priority carries LogFacility's facility too, so
// journald files the line under it (SYSLOG_FACILITY).
func TestJournalFacility(t *testing.T) {
	var out bytes.Buffer
	h := newLineHandler(&out, slog.LevelInfo)
	h.journal, h.facility = true, ctrl.FacilityMail
	slog.New(h).Warn("SMTP [192.0.2.7] ILLEGAL RELAY ATTEMPT")
	if want := "<20>Warning  SMTP [192.0.2.7] ILLEGAL RELAY ATTEMPT\n"; out.String() != want {
		t.Errorf("journal line %q, want %q", out.String(), want)
	}
}
