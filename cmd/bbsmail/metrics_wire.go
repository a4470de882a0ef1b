package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bbsmail/bbsmail/ctrl"
	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/pop3d"
	"github.com/bbsmail/bbsmail/smtpd"
	"github.com/bbsmail/bbsmail/store"
)

// Where the counters come from: wrappers around the listeners and the
// adapters the servers are given, and the log lines the servers write.

// countListener counts accepted connections and open sessions of one
// listener. The connection keeps its type's methods through embedding,
// so RemoteAddr is still a *net.TCPAddr.
type countListener struct {
	net.Listener
	m           *metrics
	proto, port string
}

func (m *metrics) listener(proto string, l net.Listener) net.Listener {
	if m == nil {
		return l
	}
	port := ""
	if a, ok := l.Addr().(*net.TCPAddr); ok {
		port = strconv.Itoa(a.Port)
	}
	return &countListener{Listener: l, m: m, proto: proto, port: port}
}

func (l *countListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return c, err
	}
	l.m.inc("bbsmail_connections_total", "protocol", l.proto, "port", l.port)
	l.m.add("bbsmail_sessions_open", 1, "protocol", l.proto)
	return &countConn{Conn: c, done: func() { l.m.add("bbsmail_sessions_open", -1, "protocol", l.proto) }}, nil
}

type countConn struct {
	net.Conn
	once sync.Once
	done func()
}

func (c *countConn) Close() error {
	c.once.Do(c.done)
	return c.Conn.Close()
}

// countMaildrop times each commit and counts accepted messages.
type countMaildrop struct {
	smtpd.Maildrop
	m *metrics
}

func (d countMaildrop) Deliver(ctx context.Context, env *envelope.Envelope, msg []byte) error {
	start := time.Now()
	err := d.Maildrop.Deliver(ctx, env, msg)
	if err == nil {
		d.m.observeCommit(time.Since(start))
		d.m.inc("bbsmail_messages_accepted_total")
	}
	return err
}

// countResolver counts refused recipients by what the resolver said.
type countResolver struct {
	smtpd.Resolver
	m *metrics
}

func (r countResolver) Resolve(ctx context.Context, q envelope.RcptQuery) (envelope.Rcpt, error) {
	rc, err := r.Resolver.Resolve(ctx, q)
	if err != nil {
		reason := "other"
		for _, e := range []struct {
			err    error
			reason string
		}{{envelope.ErrRelayDenied, "relay"}, {envelope.ErrUnknownUser, "unknown_user"},
			{envelope.ErrMailboxFull, "mailbox_full"}, {envelope.ErrUnknownSub, "unknown_sub"}} {
			if errors.Is(err, e.err) {
				reason = e.reason
				break
			}
		}
		r.m.inc("bbsmail_recipients_refused_total", "reason", reason)
	}
	return rc, err
}

// countMailbox counts POP3 retrievals.
type countMailbox struct {
	pop3d.Mailbox
	m *metrics
}

func (b countMailbox) Read(ctx context.Context, user uint32, id uint64, buf []byte) ([]byte, error) {
	msg, err := b.Mailbox.Read(ctx, user, id, buf)
	if err == nil {
		b.m.inc("bbsmail_pop3_retrievals_total")
	}
	return msg, err
}

// countHandler counts log lines the servers write about refusals and
// bans; Synchronet's wording is stable (fail2ban filters rely on it).
// It sees every record at Info and above, whatever the LogLevel.
type countHandler struct {
	slog.Handler
	m *metrics
}

func (h countHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo || h.Handler.Enabled(ctx, l)
}

func (h countHandler) Handle(ctx context.Context, r slog.Record) error {
	h.m.countLine(r.Message)
	if !h.Handler.Enabled(ctx, r.Level) {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h countHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return countHandler{h.Handler.WithAttrs(a), h.m}
}

func (h countHandler) WithGroup(n string) slog.Handler {
	return countHandler{h.Handler.WithGroup(n), h.m}
}

// lineCounts maps a phrase of a log line to the series it counts.
var lineCounts = []struct {
	phrase string
	name   string
	kv     []string
}{
	{"SPAM BAIT (", "bbsmail_recipients_refused_total", []string{"reason", "spam_bait"}},
	{"found in SPAM database", "bbsmail_recipients_refused_total", []string{"reason", "spam_hash"}},
	{"] REFUSED MAIL from blacklisted server", "bbsmail_recipients_refused_total", []string{"reason", "dnsbl"}},
	{" refused: size ", "bbsmail_recipients_refused_total", []string{"reason", "size"}},
	{" refused: a mail processor made it ", "bbsmail_recipients_refused_total", []string{"reason", "size"}},
	{" rejected by a mail processor: ", "bbsmail_recipients_refused_total", []string{"reason", "mailproc"}},
	{"] BLOCKED ", "bbsmail_recipients_refused_total", []string{"reason", "filter"}},
	{"FILTERING TWIT-LISTED SENDER", "bbsmail_recipients_refused_total", []string{"reason", "twitlist"}},
	{"TEMPORARY BAN (", "bbsmail_bans_total", []string{"kind", "temporary"}},
	{"!BLOCKING IP ADDRESS:", "bbsmail_bans_total", []string{"kind", "ip.can"}},
}

func (m *metrics) countLine(msg string) {
	if m == nil {
		return
	}
	// The zone becomes a label: take it only from the line smtpd writes,
	// which starts with it, never from client text (a MAIL FROM or a
	// user name) that merely contains the phrase, or every such client
	// would add a series.
	if zone, ok := strings.CutPrefix(msg, "SMTP BLACKLISTED SERVER on "); ok {
		zone, _, _ = strings.Cut(zone, ":")
		m.inc("bbsmail_dnsbl_listed_total", "zone", zone)
	}
	for _, c := range lineCounts {
		if strings.Contains(msg, c.phrase) {
			m.inc(c.name, c.kv...)
		}
	}
}

// refresh sets the gauges read from the mailbase and the clock.
func (m *metrics) refresh(db *store.DB, started time.Time) {
	m.set("bbsmail_uptime_seconds", time.Since(started).Truncate(time.Second).Seconds())
	q, err := db.QueueList()
	if err != nil {
		return
	}
	oldest := time.Duration(0)
	for _, e := range q {
		if age := time.Since(e.Created); age > oldest {
			oldest = age
		}
	}
	m.set("bbsmail_queue_messages", float64(len(q)))
	m.set("bbsmail_queue_oldest_seconds", oldest.Truncate(time.Second).Seconds())
}

// serveMetrics opens the Prometheus endpoint when [Mail] MetricsPort is
// set, before privileges are dropped, like every listener.
func (s *server) serveMetrics(ctx context.Context, cfg *ctrl.Config) error {
	if cfg.Mail.MetricsPort == 0 {
		return nil
	}
	addr := net.JoinHostPort(cfg.Mail.MetricsInterface, strconv.Itoa(cfg.Mail.MetricsPort))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		s.metrics.refresh(s.db, s.started)
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_ = s.metrics.write(w)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	go func() { _ = srv.Serve(l) }()
	s.log.Info(fmt.Sprintf("Metrics server listening on %s", l.Addr()))
	return nil
}

// status prints `bbsmail status`: what the metrics say, for a person.
func (s *server) status(w io.Writer) int {
	s.metrics.refresh(s.db, s.started)
	fmt.Fprintf(w, "bbsmail %s on %s, pid %d, up %v\n\n", version, s.config().Host(), os.Getpid(), time.Since(s.started).Round(time.Second))
	if err := s.metrics.write(&statusWriter{w: w}); err != nil {
		return 1
	}
	return 0
}

// statusWriter drops the HELP/TYPE comments and histogram buckets from
// the exposition, leaving one "name{labels} value" line per series.
type statusWriter struct{ w io.Writer }

func (sw *statusWriter) Write(p []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimSuffix(string(p), "\n"), "\n") {
		if strings.HasPrefix(l, "#") || strings.Contains(l, "_bucket{") {
			continue
		}
		if _, err := fmt.Fprintln(sw.w, strings.TrimPrefix(l, "bbsmail_")); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}
