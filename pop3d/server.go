package pop3d

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/netutil"
)

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("pop3d: server closed")

// ErrNoTLS is returned by Serve when implicit TLS is asked for without a
// certificate in the Config.
var ErrNoTLS = errors.New("pop3d: implicit TLS needs Config.TLS")

// Mode is the kind of port a listener serves.
type Mode int

const (
	// Plain is port 110: POP3, with STLS when Config.TLS is set.
	Plain Mode = iota
	// ImplicitTLS is port 995 (RFC 8314 §3.3): every connection starts
	// with a TLS handshake; the greeting says POP3S.
	ImplicitTLS
)

// String is the protocol name Synchronet gives the port in its greeting
// and logs.
func (m Mode) String() string {
	if m == ImplicitTLS {
		return "POP3S"
	}
	return "POP3"
}

// Server serves POP3 on any number of listeners.
type Server struct {
	cfg  atomic.Pointer[Config]
	deps Deps

	shutting atomic.Bool
	stopped  chan struct{} // closed by Shutdown
	ids      netutil.IDs

	// track holds the listeners, the sessions and their places in the
	// connection counts (Deps.Conns).
	track *netutil.Tracker[*session]

	mu     sync.Mutex
	locked map[uint32]bool // mailboxes with a session in TRANSACTION state
}

// New returns a server with the given settings and services.
func New(cfg Config, deps Deps) *Server {
	s := &Server{
		deps:    deps,
		stopped: make(chan struct{}),
		track:   netutil.NewTracker[*session](deps.Conns),
		locked:  map[uint32]bool{},
	}
	s.cfg.Store(cfg.withDefaults())
	return s
}

// SetConfig replaces the settings for sessions that start from now on.
func (s *Server) SetConfig(cfg Config) { s.cfg.Store(cfg.withDefaults()) }

// Serve accepts connections on l until Shutdown or a listener error. On an
// ImplicitTLS listener (port 995) every connection starts with a TLS
// handshake.
func (s *Server) Serve(l net.Listener, mode Mode) error {
	if mode == ImplicitTLS && s.cfg.Load().TLS == nil {
		return ErrNoTLS
	}
	err := s.track.Serve(l, func(c net.Conn) { s.accept(c, mode) })
	if errors.Is(err, netutil.ErrClosing) {
		return ErrServerClosed
	}
	return fmt.Errorf("pop3d: accept: %w", err)
}

// accept applies the connection limits and starts the connection's
// goroutine. Refused connections still get a goroutine, so the refusal can
// be written (over TLS on port 995) without stalling the accept loop.
func (s *Server) accept(c net.Conn, mode Mode) {
	cfg := s.cfg.Load()
	sess := newSession(s, cfg, c, mode)
	slot, verdict := s.track.Admit(sess, sess.ip, netutil.Limits{
		MaxClients: cfg.MaxClients, MaxPerIP: cfg.MaxConnsPerIP,
		ExemptIP: netutil.Listed(cfg.IPFilterExempt, sess.ip),
	})
	sess.slot = slot
	go func() {
		defer s.track.Done(sess)
		defer s.unlock(sess)
		sess.run(verdict)
	}()
}

// unlock releases the session's mailbox. QUIT calls it before its reply,
// so a client that reconnects at once finds the mailbox free.
func (s *Server) unlock(sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unlockLocked(sess)
}

func (s *Server) unlockLocked(sess *session) {
	if sess.holdsLock {
		delete(s.locked, sess.ident.User)
		sess.holdsLock = false
	}
}

// lock takes the mailbox for a session that has just logged in; false when
// another session has it. A logged-in connection no longer counts toward
// MaxConnsPerIP.
func (s *Server) lock(sess *session, id envelope.Identity) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.locked[id.User] {
		return false
	}
	s.locked[id.User] = true
	sess.ident, sess.holdsLock = id, true
	sess.slot.LoggedIn()
	return true
}

// Shutdown stops accepting connections, tells idle sessions the server is
// going down, and waits for the sessions to end. Sessions in the middle of
// a command finish it first. When ctx ends before that, the remaining
// connections are closed (nothing is deleted for them) and ctx's error is
// returned.
func (s *Server) Shutdown(ctx context.Context) error {
	if !s.shutting.Swap(true) {
		close(s.stopped)
	}
	s.track.Close()
	s.track.Each((*session).interrupt)
	err := s.track.Wait(ctx, func(sess *session) {
		sess.cancel()
		_ = sess.raw.Close()
	})
	if err != nil {
		return fmt.Errorf("pop3d: shutdown: %w", err)
	}
	return nil
}

// tlsConfig returns the TLS settings for a session's handshake, with a
// floor of TLS 1.2 when the caller left the version open.
func tlsConfig(cfg *Config) *tls.Config {
	tc := cfg.TLS.Clone()
	if tc.MinVersion == 0 {
		tc.MinVersion = tls.VersionTLS12
	}
	return tc
}
