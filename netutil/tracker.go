package netutil

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// ErrClosing is returned by Tracker.Serve once Close has been called.
var ErrClosing = errors.New("server closing")

// RefusalTimeout bounds the time spent on a connection that is turned away
// before its session starts (MaxClients, MaxConcurrentConnections), the TLS
// handshake of an implicit-TLS port included: refusals happen under load,
// so a refused client never gets MaxInactivity.
const RefusalTimeout = 5 * time.Second

// Tracker is the bookkeeping one SMTP or POP3 server keeps of its
// connections: the listeners Close shuts, the sessions Wait waits for (and
// cuts when its deadline passes), and each session's place in the
// connection counts (Conns) it was admitted under. S is the protocol's
// session type. It is safe for concurrent use.
type Tracker[S comparable] struct {
	conns *Conns

	mu        sync.Mutex
	closing   bool
	listeners map[net.Listener]struct{}
	sessions  map[S]*Slot
	// idle, when not nil, is closed by the Done that leaves no session
	// tracked. (A WaitGroup would do, but a connection accepted just
	// before Close may be admitted while Wait waits on an empty group,
	// which WaitGroup forbids.)
	idle chan struct{}
}

// NewTracker returns a tracker that counts connections in conns, which the
// wiring shares between the SMTP and POP3 servers; nil gives the tracker
// counts of its own.
func NewTracker[S comparable](conns *Conns) *Tracker[S] {
	if conns == nil {
		conns = &Conns{}
	}
	return &Tracker[S]{conns: conns, listeners: map[net.Listener]struct{}{}, sessions: map[S]*Slot{}}
}

// Serve accepts connections on l and hands each to handle (which must not
// block) until l is closed. It returns ErrClosing when Close was called,
// before or during Serve, and otherwise the error that ended the accept
// loop.
func (t *Tracker[S]) Serve(l net.Listener, handle func(net.Conn)) error {
	t.mu.Lock()
	if t.closing {
		t.mu.Unlock()
		return ErrClosing
	}
	t.listeners[l] = struct{}{}
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		delete(t.listeners, l)
		t.mu.Unlock()
	}()
	err := AcceptLoop(l, handle)
	if t.Closing() {
		return ErrClosing
	}
	return err
}

// Admit counts session s, a new connection from ip, under the limits and
// tracks it; the verdict says whether it may go on (Admitted, with its
// Slot) or must be refused (a nil Slot: ShuttingDown, TooManyClients,
// TooManyFromIP). Either way the session is tracked until Done, so Wait
// also waits for the refusal to be sent.
func (t *Tracker[S]) Admit(s S, ip string, l Limits) (*Slot, Verdict) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var (
		slot    *Slot
		verdict = ShuttingDown
	)
	if !t.closing {
		slot, verdict = t.conns.Admit(ip, l)
	}
	t.sessions[s] = slot
	return slot, verdict
}

// Done ends the tracking of s and releases its place in the counts.
func (t *Tracker[S]) Done(s S) {
	t.mu.Lock()
	slot := t.sessions[s]
	delete(t.sessions, s)
	if len(t.sessions) == 0 && t.idle != nil {
		close(t.idle)
		t.idle = nil
	}
	t.mu.Unlock()
	slot.Release()
}

// idleCh returns a channel closed once no session is tracked (already
// closed when none is).
func (t *Tracker[S]) idleCh() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.sessions) == 0 {
		c := make(chan struct{})
		close(c)
		return c
	}
	if t.idle == nil {
		t.idle = make(chan struct{})
	}
	return t.idle
}

// Close stops accepting: it closes every listener, and Serve and Admit
// refuse from now on. Calling it again does nothing more.
func (t *Tracker[S]) Close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closing = true
	for l := range t.listeners {
		_ = l.Close()
	}
}

// Closing reports whether Close has been called.
func (t *Tracker[S]) Closing() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closing
}

// Each calls f for every tracked session, with the tracker locked: f must
// not block or call back into the tracker.
func (t *Tracker[S]) Each(f func(S)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for s := range t.sessions {
		f(s)
	}
}

// Wait waits until every tracked session is Done. When ctx ends first it
// calls cut for each session still tracked (to close its connection),
// waits for them all the same, and returns ctx.Err().
func (t *Tracker[S]) Wait(ctx context.Context, cut func(S)) error {
	select {
	case <-t.idleCh():
		return nil
	case <-ctx.Done():
	}
	// A session admitted after the cut (accepted just before Close) is
	// cut when it is seen; each session is cut once.
	done := map[S]bool{}
	cutNew := func() {
		var fresh []S
		t.Each(func(s S) {
			if !done[s] {
				done[s] = true
				fresh = append(fresh, s)
			}
		})
		for _, s := range fresh {
			cut(s)
		}
	}
	cutNew()
	for {
		select {
		case <-t.idleCh():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
			cutNew()
		}
	}
}
