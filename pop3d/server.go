package pop3d

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/bbsmail/bbsmail/netutil"
	"net"
	"sync"
	"sync/atomic"

	"github.com/bbsmail/bbsmail/envelope"
)

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("pop3d: server closed")

// ErrNoTLS is returned by Serve when implicit TLS is asked for without a
// certificate in the Config.
var ErrNoTLS = errors.New("pop3d: implicit TLS needs Config.TLS")

// Server serves POP3 on any number of listeners.
type Server struct {
	cfg  atomic.Pointer[Config]
	deps Deps

	shutting atomic.Bool
	stopped  chan struct{} // closed by Shutdown
	seq      atomic.Uint64

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	sessions  map[*session]struct{}
	conns     *netutil.Conns  // MaxClients and MaxConnsPerIP counts
	locked    map[uint32]bool // mailboxes with a session in TRANSACTION state
	wg        sync.WaitGroup
}

// New returns a server with the given settings and services.
func New(cfg Config, deps Deps) *Server {
	s := &Server{
		deps:      deps,
		stopped:   make(chan struct{}),
		listeners: map[net.Listener]struct{}{},
		sessions:  map[*session]struct{}{},
		conns:     deps.Conns,
		locked:    map[uint32]bool{},
	}
	if s.conns == nil {
		s.conns = &netutil.Conns{}
	}
	s.cfg.Store(cfg.withDefaults())
	return s
}

// SetConfig replaces the settings for sessions that start from now on.
func (s *Server) SetConfig(cfg Config) { s.cfg.Store(cfg.withDefaults()) }

// Serve accepts connections on l until Shutdown or a listener error. With
// implicitTLS (port 995) every connection starts with a TLS handshake.
func (s *Server) Serve(l net.Listener, implicitTLS bool) error {
	if implicitTLS && s.cfg.Load().TLS == nil {
		return ErrNoTLS
	}
	s.mu.Lock()
	if s.shutting.Load() {
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

	err := netutil.AcceptLoop(l, func(c net.Conn) { s.accept(c, implicitTLS) })
	if s.shutting.Load() {
		return ErrServerClosed
	}
	return fmt.Errorf("pop3d: accept: %w", err)
}

// admission says why a new connection is turned away, if it is.
type admission int

const (
	admitted admission = iota
	tooManyFromIP
	tooManyClients
)

// accept applies the connection limits and starts the connection's
// goroutine. Refused connections still get a goroutine, so the refusal can
// be written (over TLS on port 995) without stalling the accept loop.
func (s *Server) accept(c net.Conn, implicitTLS bool) {
	cfg := s.cfg.Load()
	ip := remoteIP(c)
	verdict := admitted
	s.mu.Lock()
	if s.shutting.Load() {
		s.mu.Unlock()
		_ = c.Close()
		return
	}
	slot, v := s.conns.Admit(ip, netutil.Limits{
		MaxClients: cfg.MaxClients, MaxPerIP: cfg.MaxConnsPerIP,
		ExemptIP: cfg.Exempt != nil && cfg.Exempt.Match(ip),
	})
	switch v {
	case netutil.TooManyClients:
		verdict = tooManyClients
	case netutil.TooManyFromIP:
		verdict = tooManyFromIP
	}
	sess := newSession(s, cfg, c, ip, s.seq.Add(1))
	sess.slot = slot
	s.sessions[sess] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()

	go func() {
		defer s.wg.Done()
		defer s.forget(sess)
		sess.run(implicitTLS, verdict)
	}()
}

// forget releases everything a connection held in the server.
func (s *Server) forget(sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, sess)
	if sess.slot != nil {
		sess.slot.Release()
	}
	s.unlockLocked(sess)
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
	s.mu.Lock()
	if !s.shutting.Swap(true) {
		close(s.stopped)
	}
	for l := range s.listeners {
		_ = l.Close()
	}
	for sess := range s.sessions {
		sess.interrupt()
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for sess := range s.sessions {
			sess.cancel()
			_ = sess.raw.Close()
		}
		s.mu.Unlock()
		<-done
		return fmt.Errorf("pop3d: shutdown: %w", ctx.Err())
	}
}

func remoteIP(c net.Conn) string {
	host, _, err := net.SplitHostPort(c.RemoteAddr().String())
	if err != nil {
		return c.RemoteAddr().String()
	}
	return host
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
