package smtpd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
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

	nextID atomic.Uint64

	// stopping is closed when Shutdown begins: waits that are not
	// reads (the throttle delay) end on it. stopCtx is cancelled at the
	// same moment, for waits that take a context (DNSBL_THROTTLE).
	stopping   chan struct{}
	stopOnce   sync.Once
	stopCtx    context.Context
	stopCancel context.CancelFunc

	mu        sync.Mutex
	closing   bool
	listeners map[net.Listener]struct{}
	sessions  map[*session]struct{}
	conns     *netutil.Conns
	wg        sync.WaitGroup

	// budget counts the message text all sessions hold (textbuf.go).
	budget dataBudget

	spamMu  sync.Mutex // serialises spam.log appends
	blockMu sync.Mutex // serialises automatic spamblock.cfg entries
}

// New returns a server with the given configuration and collaborators.
func New(cfg Config, deps Deps) *Server {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		deps:      deps,
		baseCtx:   ctx,
		cancel:    cancel,
		stopping:  make(chan struct{}),
		listeners: map[net.Listener]struct{}{},
		sessions:  map[*session]struct{}{},
		conns:     deps.Conns,
	}
	if s.conns == nil {
		s.conns = &netutil.Conns{}
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
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()

	err := netutil.AcceptLoop(l, func(c net.Conn) { s.admit(c, mode) })
	if s.isClosing() {
		return ErrServerClosed
	}
	return fmt.Errorf("smtpd: accept: %w", err)
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
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
	s.mu.Lock()
	s.closing = true
	for l := range s.listeners {
		_ = l.Close()
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	for ss := range s.sessions {
		ss.conn.stop()
	}
	s.mu.Unlock()
	s.cancel()
	<-done
	return ctx.Err()
}

// admit applies the connection limits, in the order Synchronet does, and
// starts the session goroutine. A refused client gets its 421 from its own
// goroutine so that a slow client can't stall the accept loop.
func (s *Server) admit(c net.Conn, mode Mode) {
	cfg := s.cfg.Load()
	ip := remoteIP(c)
	ss := newSession(s, cfg, c, mode)

	s.mu.Lock()
	var refuse *envelope.Reply
	if s.closing {
		refuse = replyShuttingDown
	} else {
		slot, verdict := s.conns.Admit(ip, netutil.Limits{
			MaxClients: cfg.MaxClients, MaxPerIP: cfg.MaxConnsPerIP,
			ExemptIP: cfg.ConnLimitExempt != nil && cfg.ConnLimitExempt.Match(ip),
		})
		switch verdict {
		case netutil.TooManyClients:
			refuse = replyTooManyConns
		case netutil.TooManyFromIP:
			refuse = replyTooManyPerIP
		default:
			ss.slot = slot
			s.sessions[ss] = struct{}{}
		}
	}
	s.wg.Add(1)
	s.mu.Unlock()

	if refuse != nil {
		cfg.Logger.Warn(fmt.Sprintf("SMTP connection refused from: %s (%s)", ip, refuse.Text), "id", ss.id)
		go s.refuse(ss, refuse)
		return
	}
	go s.serveSession(ss)
}

// refuseTimeout bounds the time spent on a connection that is turned away.
const refuseTimeout = 5 * time.Second

// refuse sends the reply to a client over the limits and closes it.
func (s *Server) refuse(ss *session, r *envelope.Reply) {
	defer s.wg.Done()
	defer func() {
		if r := recover(); r != nil {
			ss.cfg.Logger.Error("SMTP panic refusing connection", "id", ss.id, "panic", r)
		}
	}()
	defer ss.nc.Close()
	// A refused client gets a few seconds (the TLS handshake on 465
	// included), never MaxInactivity: refusals happen under load.
	_ = ss.nc.SetDeadline(time.Now().Add(refuseTimeout))
	_, _ = ss.nc.Write([]byte(strings.Join(r.Lines(), "\r\n") + "\r\n"))
}

func (s *Server) serveSession(ss *session) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.sessions, ss)
		s.mu.Unlock()
		ss.slot.Release()
	}()
	ss.serve()
}

// loggedIn takes an authenticated session out of the per-IP count:
// MaxConcurrentConnections limits clients that have not logged in, as in
// Synchronet, so users behind one NAT address are not locked out by each
// other.
func (s *Server) loggedIn(ss *session) { ss.slot.LoggedIn() }

func (s *Server) newID() string {
	return strconv.FormatUint(s.nextID.Add(1), 36)
}

// remoteIP is the client's IP address as text, without port or zone.
func remoteIP(c net.Conn) string {
	return addrIP(c.RemoteAddr())
}

func addrIP(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

func addrPort(a net.Addr) int {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.Port
	}
	_, p, _ := net.SplitHostPort(a.String())
	n, _ := strconv.Atoi(p)
	return n
}

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
