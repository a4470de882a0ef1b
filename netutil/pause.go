package netutil

import (
	"fmt"
	"net"
	"sync"
)

// Gate holds back new connections while it is paused, as Synchronet's
// accept loop stops accepting while the pause semaphore exists: clients
// wait in the listen backlog and are greeted once the pause ends. The
// zero Gate is open. It is safe for concurrent use.
type Gate struct {
	mu     sync.Mutex
	resume chan struct{} // non-nil while paused; closed to resume
}

// Pause holds back accepting until Resume.
func (g *Gate) Pause() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.resume == nil {
		g.resume = make(chan struct{})
	}
}

// Resume lets the waiting connections in.
func (g *Gate) Resume() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.resume != nil {
		close(g.resume)
		g.resume = nil
	}
}

// Paused reports whether the gate holds connections back.
func (g *Gate) Paused() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.resume != nil
}

// wait returns true once the gate is open, false when closed fires first.
func (g *Gate) wait(closed <-chan struct{}) bool {
	g.mu.Lock()
	ch := g.resume
	g.mu.Unlock()
	if ch == nil {
		return true
	}
	select {
	case <-ch:
		return true
	case <-closed:
		return false
	}
}

// Listener returns l with its Accept held back while g is paused. A
// connection that arrives during a pause waits, unanswered, for the
// pause to end; closing the listener drops it.
func (g *Gate) Listener(l net.Listener) net.Listener {
	return &gatedListener{Listener: l, gate: g, closed: make(chan struct{})}
}

type gatedListener struct {
	net.Listener
	gate   *Gate
	closed chan struct{}
	once   sync.Once
}

func (l *gatedListener) Accept() (net.Conn, error) {
	if !l.gate.wait(l.closed) {
		return nil, fmt.Errorf("accept on %s: %w", l.Addr(), net.ErrClosed)
	}
	c, err := l.Listener.Accept()
	if err != nil {
		return c, err
	}
	// A pause may have begun while Accept was blocked.
	if !l.gate.wait(l.closed) {
		c.Close()
		return nil, fmt.Errorf("accept on %s: %w", l.Addr(), net.ErrClosed)
	}
	return c, nil
}

func (l *gatedListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.Listener.Close()
}
