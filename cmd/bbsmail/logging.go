package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
)

// lineHandler writes one plain line per record, the way Synchronet's
// console and syslog lines look, so fail2ban filters and sysops' habits
// keep working: "2026-11-22 10:00:00 Warning  SMTP ... ILLEGAL RELAY
// ATTEMPT ...". Attributes follow the message as key=value. Messages and
// values carry what clients sent (user names, subjects, command lines), so
// terminal controls and line ends are written as escapes
// (envelope.LogText): a record is always exactly one line.
type lineHandler struct {
	mu    *sync.Mutex
	w     io.Writer
	level slog.Leveler
	attrs []slog.Attr
	group string
	// journal drops the timestamp (the journal adds its own) and starts
	// each line with its syslog priority, "<4>", as sd-daemon(3) says.
	journal bool
	// facility is the syslog facility code put in the priority, 0 for
	// none (the journal then files lines under the unit's facility).
	facility int
	// ident, when set, makes each line a syslog(3) datagram:
	// "<PRI>Mmm dd hh:mm:ss ident[pid]: Warning  SMTP ...".
	ident string
	pid   int
}

func newLineHandler(w io.Writer, level slog.Leveler) *lineHandler {
	return &lineHandler{mu: &sync.Mutex{}, w: w, level: level}
}

func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func levelName(l slog.Level) string {
	switch {
	case l < slog.LevelInfo:
		return "Debug"
	case l < slog.LevelInfo+2:
		return "Info"
	case l < slog.LevelWarn:
		return "Notice"
	case l < slog.LevelError:
		return "Warning"
	case l < slog.LevelError+4:
		return "Error"
	default:
		return "Critical"
	}
}

// syslogPriority maps a level to syslog's: debug 7, info 6, notice 5,
// warning 4, error 3, critical 2.
func syslogPriority(l slog.Level) int {
	switch levelName(l) {
	case "Debug":
		return 7
	case "Info":
		return 6
	case "Notice":
		return 5
	case "Warning":
		return 4
	case "Error":
		return 3
	}
	return 2
}

func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	pri := h.facility<<3 | syslogPriority(r.Level)
	switch {
	case h.ident != "":
		fmt.Fprintf(&b, "<%d>%s %s[%d]: %-8s ", pri, t.Format("Jan _2 15:04:05"), h.ident, h.pid, levelName(r.Level))
	case h.journal:
		fmt.Fprintf(&b, "<%d>%-8s ", pri, levelName(r.Level))
	default:
		b.WriteString(t.Format("2006-01-02 15:04:05"))
		fmt.Fprintf(&b, " %-8s ", levelName(r.Level))
	}
	b.WriteString(envelope.LogText(r.Message))
	write := func(a slog.Attr) {
		if a.Equal(slog.Attr{}) {
			return
		}
		key := a.Key
		if h.group != "" {
			key = h.group + "." + key
		}
		fmt.Fprintf(&b, " %s=%s", envelope.LogText(key), envelope.LogText(a.Value.Resolve().String()))
	}
	for _, a := range h.attrs {
		write(a)
	}
	r.Attrs(func(a slog.Attr) bool { write(a); return true })
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *lineHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	n := *h
	n.attrs = append(append([]slog.Attr{}, h.attrs...), attrs...)
	return &n
}

func (h *lineHandler) WithGroup(name string) slog.Handler {
	n := *h
	if n.group != "" {
		name = n.group + "." + name
	}
	n.group = name
	return &n
}
