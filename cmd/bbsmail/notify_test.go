package main

import (
	"bytes"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// listenUnixgram opens a unix datagram socket in a temporary directory,
// closed when the test ends.
func listenUnixgram(t *testing.T, name string) (*net.UnixConn, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, path
}

// listenNotify is a fake service manager's notification socket.
func listenNotify(t *testing.T) *net.UnixConn {
	t.Helper()
	c, path := listenUnixgram(t, "notify")
	t.Setenv("NOTIFY_SOCKET", path)
	return c
}

func readDatagram(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 4096)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no datagram: %v", err)
	}
	return string(buf[:n])
}

func TestNotifier(t *testing.T) {
	c := listenNotify(t)
	n, err := newNotifier()
	if err != nil {
		t.Fatal(err)
	}
	defer n.close()
	n.ready("accepting mail")
	if got := readDatagram(t, c); !strings.HasPrefix(got, "READY=1\nSTATUS=accepting mail\nMAINPID=") {
		t.Errorf("ready sent %q", got)
	}
	n.reloading()
	if got := readDatagram(t, c); !strings.HasPrefix(got, "RELOADING=1\nMONOTONIC_USEC=") {
		t.Errorf("reloading sent %q", got)
	}
	n.stopping()
	if got := readDatagram(t, c); !strings.HasPrefix(got, "STOPPING=1\n") {
		t.Errorf("stopping sent %q", got)
	}
}

// Without NOTIFY_SOCKET nothing is sent and nothing fails.
func TestNotifierUnset(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	n, err := newNotifier()
	if err != nil {
		t.Fatal(err)
	}
	n.ready("x")
	n.stopping()
	n.close()
}

// Under journald lines carry a syslog priority and no timestamp.
func TestJournalLines(t *testing.T) {
	var buf bytes.Buffer
	h := newLineHandler(&buf, slog.LevelDebug)
	h.journal = true
	log := slog.New(h)
	log.Warn("SMTP [1.2.3.4] ILLEGAL RELAY ATTEMPT")
	log.Debug("detail")
	notice(log, "started")
	want := "<4>Warning  SMTP [1.2.3.4] ILLEGAL RELAY ATTEMPT\n<7>Debug    detail\n<5>Notice   started\n"
	if buf.String() != want {
		t.Errorf("journal lines:\n%s\nwant:\n%s", buf.String(), want)
	}
}

// JOURNAL_STREAM counts only when it names the stream we write to.
func TestUnderJournal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stream")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	st := statOf(fi)
	t.Setenv("JOURNAL_STREAM", "1:2")
	if underJournal(f) {
		t.Error("a foreign JOURNAL_STREAM was taken for ours")
	}
	t.Setenv("JOURNAL_STREAM", st)
	if !underJournal(f) {
		t.Error("JOURNAL_STREAM naming our stream was not recognised")
	}
}
