package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"

	"github.com/bbsmail/bbsmail/ctrl"
)

// syslogSocket is the local syslog daemon's socket; tests point it at
// their own.
var syslogSocket = "/dev/log"

// syslogWriter sends each Write as one datagram to the local syslog
// socket, as syslog(3) does. lineHandler writes exactly one record per
// Write. A failed send redials once, so a restarted syslog daemon gets
// the next line.
type syslogWriter struct {
	mu   sync.Mutex
	path string
	conn net.Conn
}

func dialSyslog(path string) (*syslogWriter, error) {
	c, err := net.Dial("unixgram", path)
	if err != nil {
		return nil, fmt.Errorf("syslog: %w", err)
	}
	return &syslogWriter{path: path, conn: c}, nil
}

func (w *syslogWriter) Write(p []byte) (int, error) {
	line := strings.TrimSuffix(string(p), "\n")
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := io.WriteString(w.conn, line); err == nil {
		return len(p), nil
	}
	c, err := net.Dial("unixgram", w.path)
	if err != nil {
		return 0, fmt.Errorf("syslog: %w", err)
	}
	w.conn.Close()
	w.conn = c
	if _, err := io.WriteString(w.conn, line); err != nil {
		return 0, fmt.Errorf("syslog: %w", err)
	}
	return len(p), nil
}

// serveLogHandler is the handler of `bbsmail serve`: plain lines on out;
// under the journal, lines with their priority (and LogFacility's
// facility) and no timestamp; with [UNIX] Daemonize and no journal,
// datagrams to the local syslog with LogFacility and LogIdent, as
// Synchronet's daemonized sbbscon logs (its stock sbbs.ini sets both keys
// with Daemonize off, and then logs to the console). The string it returns, when not
// empty, is a warning to log: the syslog socket could not be opened and
// lines stay on out.
func serveLogHandler(u ctrl.Unix, out io.Writer, level slog.Leveler) (*lineHandler, string) {
	h := newLineHandler(out, level)
	h.facility = u.LogFacility
	h.journal = underJournal(out)
	if h.journal || !u.Daemonize {
		return h, ""
	}
	w, err := dialSyslog(syslogSocket)
	if err != nil {
		return h, fmt.Sprintf("sbbs.ini [UNIX] Daemonize: %v; logging to standard error instead", err)
	}
	h.w = w
	h.ident = u.LogIdent
	if h.ident == "" {
		h.ident = "bbsmail"
	}
	if h.facility == 0 {
		h.facility = ctrl.FacilityUser
	}
	h.pid = os.Getpid()
	return h, ""
}
