package smtpd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/netutil"
)

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("smtpd: server closed")

// Server is an SMTP server. One Server may serve several listeners (ports
// 25, 587 and 465 on each interface); MaxClients and MaxConnsPerIP count
// over all of them, and over the POP3 server too when the wiring gives
// both the same Deps.Conns.
type Server struct {
	cfg  atomic.Pointer[Config]
	deps Deps

	// baseCtx is the parent of every session context; cancel ends
	// deliveries still running when Shutdown's deadline passes.
	baseCtx context.Context
	cancel  context.CancelFunc

	ids netutil.IDs

	// stopping is closed when Shutdown begins: waits that are not
	// reads (the throttle delay) end on it. stopCtx is cancelled at the
	// same moment, for waits that take a context (DNSBL_THROTTLE).
	stopping   chan struct{}
	stopOnce   sync.Once
	stopCtx    context.Context
	stopCancel context.CancelFunc

	// track holds the listeners, the sessions and their places in the
	// connection counts (Deps.Conns).
	track *netutil.Tracker[*session]

	// budget counts the message text all sessions hold (textbuf.go).
	budget dataBudget

	spamMu  sync.Mutex // serialises spam.log appends
	blockMu sync.Mutex // serialises automatic spamblock.cfg entries
}

// New returns a server with the given configuration and collaborators.
func New(cfg Config, deps Deps) *Server {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		deps:     deps,
		baseCtx:  ctx,
		cancel:   cancel,
		stopping: make(chan struct{}),
		track:    netutil.NewTracker[*session](deps.Conns),
	}
	s.stopCtx, s.stopCancel = context.WithCancel(context.Background())
	s.cfg.Store(cfg.withDefaults())
	return s
}

// SetConfig swaps in a new configuration (sbbs.ini reload). Sessions
// already running keep the configuration they started with.
func (s *Server) SetConfig(cfg Config) { s.cfg.Store(cfg.withDefaults()) }

// Serve accepts connections on l and serves them in the given mode until
// Shutdown; it then returns ErrServerClosed. For SubmissionTLS each
// accepted connection is wrapped in TLS with Config.TLS.
func (s *Server) Serve(l net.Listener, mode Mode) error {
	if s.deps.Resolver == nil || s.deps.Maildrop == nil {
		return errors.New("smtpd: Deps.Resolver and Deps.Maildrop are required")
	}
	if mode == SubmissionTLS && s.cfg.Load().TLS == nil {
		return errors.New("smtpd: implicit TLS needs Config.TLS")
	}
	err := s.track.Serve(l, func(c net.Conn) { s.admit(c, mode) })
	if errors.Is(err, netutil.ErrClosing) {
		return ErrServerClosed
	}
	return fmt.Errorf("smtpd: accept: %w", err)
}

// Shutdown stops accepting connections and waits for the sessions to end.
// When ctx is done first, idle sessions get "421 4.3.2 Service shutting
// down", deliveries that have not begun their commit are cancelled (one
// under way finishes), every connection is closed, and Shutdown returns
// ctx.Err() once the sessions have ended.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopOnce.Do(func() {
		close(s.stopping)
		s.stopCancel()
	})
	s.track.Close()
	err := s.track.Wait(ctx, func(ss *session) {
		ss.conn.stop()
		ss.cancel()
	})
	s.cancel()
	return err
}

// admit applies the connection limits, in the order Synchronet does, and
// starts the session goroutine. A refused client gets its 421 from its own
// goroutine so that a slow client can't stall the accept loop.
func (s *Server) admit(c net.Conn, mode Mode) {
	cfg := s.cfg.Load()
	ss := newSession(s, cfg, c, mode)
	slot, verdict := s.track.Admit(ss, ss.ip, netutil.Limits{
		MaxClients: cfg.MaxClients, MaxPerIP: cfg.MaxConnsPerIP,
		ExemptIP: netutil.Listed(cfg.IPFilterExempt, ss.ip),
	})
	ss.slot = slot
	var refuse *envelope.Reply
	switch verdict {
	case netutil.ShuttingDown:
		refuse = replyShuttingDown
	case netutil.TooManyClients:
		refuse = replyTooManyConns
	case netutil.TooManyFromIP:
		refuse = replyTooManyPerIP
	}
	if refuse != nil {
		cfg.Logger.Warn(fmt.Sprintf("SMTP connection refused from: %s (%s)", ss.ip, refuse.Text), "id", ss.id)
		go s.refuse(ss, refuse)
		return
	}
	go s.serveSession(ss)
}

// refuse sends the reply to a client over the limits and closes it.
func (s *Server) refuse(ss *session, r *envelope.Reply) {
	defer s.track.Done(ss)
	defer ss.cancel()
	defer func() {
		if r := recover(); r != nil {
			ss.cfg.Logger.Error("SMTP panic refusing connection", "id", ss.id, "panic", r)
		}
	}()
	defer ss.nc.Close()
	// A refused client gets a few seconds (the TLS handshake on 465
	// included), never MaxInactivity: refusals happen under load.
	_ = ss.nc.SetDeadline(time.Now().Add(netutil.RefusalTimeout))
	_, _ = ss.nc.Write([]byte(strings.Join(r.Lines(), "\r\n") + "\r\n"))
}

func (s *Server) serveSession(ss *session) {
	defer s.track.Done(ss)
	ss.serve()
}

// loggedIn takes an authenticated session out of the per-IP count:
// MaxConcurrentConnections limits clients that have not logged in, as in
// Synchronet, so users behind one NAT address are not locked out by each
// other.
func (s *Server) loggedIn(ss *session) { ss.slot.LoggedIn() }

// conn wraps the client's TCP connection. The session calls lineStart
// before each line it must read from the connection (one already buffered
// needs no Read), and every Read until the next lineStart
// shares that one MaxInactivity deadline: the idle limit applies per line
// (so a long message is fine) but a client cannot keep a session open by
// trickling a byte at a time. stop makes pending and future reads fail at
// once (shutdown) without racing that deadline.
type conn struct {
	net.Conn
	idle time.Duration

	mu       sync.Mutex
	stopped  bool
	deadline time.Time // of the line being read; zero: from each Read
}

// lineStart begins the inactivity window for the next line.
func (c *conn) lineStart() {
	c.mu.Lock()
	c.deadline = time.Now().Add(c.idle)
	c.mu.Unlock()
}

var errStopped = errors.New("smtpd: server shutting down")

func (c *conn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return 0, errStopped
	}
	d := c.deadline
	if d.IsZero() {
		d = time.Now().Add(c.idle)
	}
	_ = c.Conn.SetReadDeadline(d)
	c.mu.Unlock()
	n, err := c.Conn.Read(p)
	if err != nil && c.isStopped() {
		return n, errStopped
	}
	return n, err
}

func (c *conn) Write(p []byte) (int, error) {
	_ = c.Conn.SetWriteDeadline(time.Now().Add(c.idle))
	return c.Conn.Write(p)
}

func (c *conn) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	_ = c.Conn.SetReadDeadline(time.Unix(1, 0))
}

func (c *conn) isStopped() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopped
}

// tlsServer wraps the connection for implicit TLS or after STARTTLS.
func tlsServer(c *conn, cfg *tls.Config) *tls.Conn { return tls.Server(c, cfg) }

// DataInFlight reports the octets of message text the sessions hold in
// memory now, as counted against Config.MaxDataInFlight (in steps of
// 1 MiB per message).
func (s *Server) DataInFlight() int64 { return s.budget.inUse() }
