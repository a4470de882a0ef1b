package netutil

import "sync"

// Conns counts the connections of every server of one process for the
// connection limits. Synchronet's mail server is one server: its MaxClients
// and MaxConcurrentConnections count SMTP and POP3 clients together, so a
// client that filled its share on one protocol is refused on the other.
// The wiring gives the SMTP and POP3 servers the same Conns. It is safe for
// concurrent use; the zero value is ready.
type Conns struct {
	mu      sync.Mutex
	active  int            // admitted connections
	pending map[string]int // admitted connections per IP not logged in
}

// Verdict is Admit's answer.
type Verdict int

const (
	// Admitted: the connection counts until Slot.Release.
	Admitted Verdict = iota
	// TooManyClients: maxClients connections are open.
	TooManyClients
	// TooManyFromIP: maxPerIP connections from the address have not
	// logged in.
	TooManyFromIP
	// ShuttingDown: the server is closing (Tracker.Admit).
	ShuttingDown
)

// Limits are the limits a connection is admitted under; 0 is unlimited.
type Limits struct {
	MaxClients int // connections open at once, over every server
	MaxPerIP   int // connections from one address not logged in yet
	// ExemptIP spares this connection MaxPerIP (ipfilter_exempt.cfg).
	ExemptIP bool
}

// Admit counts a new connection from ip, unless it is over a limit
// (MaxClients is checked first). A refused connection is not counted.
func (c *Conns) Admit(ip string, l Limits) (*Slot, Verdict) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case l.MaxClients > 0 && c.active >= l.MaxClients:
		return nil, TooManyClients
	case l.MaxPerIP > 0 && !l.ExemptIP && c.pending[ip] >= l.MaxPerIP:
		return nil, TooManyFromIP
	}
	if c.pending == nil {
		c.pending = map[string]int{}
	}
	c.active++
	c.pending[ip]++
	return &Slot{c: c, ip: ip}, Admitted
}

// Active returns the number of admitted connections.
func (c *Conns) Active() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.active
}

// Slot is one admitted connection. A nil Slot (a refused connection) is
// valid: its methods do nothing.
type Slot struct {
	c        *Conns
	ip       string
	loggedIn bool // no longer counted per IP
	released bool
}

// LoggedIn takes the connection out of the per-IP count: the limit is on
// clients that have not logged in, as in Synchronet, so users behind one
// NAT address do not lock each other out. Calling it again does nothing.
func (s *Slot) LoggedIn() {
	if s == nil {
		return
	}
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	s.uncountLocked()
}

// Release ends the connection's count. Calling it again does nothing.
func (s *Slot) Release() {
	if s == nil {
		return
	}
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	if s.released {
		return
	}
	s.released = true
	s.c.active--
	s.uncountLocked()
}

func (s *Slot) uncountLocked() {
	if s.loggedIn {
		return
	}
	s.loggedIn = true
	if s.c.pending[s.ip] <= 1 {
		delete(s.c.pending, s.ip)
	} else {
		s.c.pending[s.ip]--
	}
}
