package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// loadSpec describes one run of the built-in load generator.
type loadSpec struct {
	addr     string
	clients  int
	messages int           // total messages over all clients (when duration is 0)
	duration time.Duration // run this long instead of a message count
	size     int           // bytes per message, header included
	reuse    bool          // keep each client's connection: RSET, MAIL, RCPT, DATA
	from, to string
	user     string // AUTH PLAIN as user/pass when user is set
	pass     string
	// text, when set, is sent as the whole message every time (a message
	// signed once for the mail authentication run) instead of a fresh
	// header and a body of size bytes.
	text []byte
}

// loadResult is what a run measured.
type loadResult struct {
	accepted int
	failed   int
	elapsed  time.Duration
	msgLat   []time.Duration // MAIL sent → 250 after the final dot received
	connLat  []time.Duration // connect → 221 after QUIT (new-connection mode)
	firstErr error
}

// rate is accepted messages per second of wall time.
func (r loadResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.accepted) / r.elapsed.Seconds()
}

// maxFailures stops a run early: a server that refuses everything would
// otherwise make the clients spin through their whole budget.
const maxFailures = 100

// budget hands out message slots: a fixed count, or as many as fit before
// a deadline. Every attempt takes a slot, so a run always ends.
type budget struct {
	limit    int64
	deadline time.Time
	taken    atomic.Int64
}

func (b *budget) take(ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	if !b.deadline.IsZero() {
		return time.Now().Before(b.deadline)
	}
	return b.taken.Add(1) <= b.limit
}

// clientStats is one client's share of a result, merged at the end so the
// clients never contend on a lock while measuring.
type clientStats struct {
	accepted, failed int
	msgLat, connLat  []time.Duration
	firstErr         error
}

func (c *clientStats) fail(err error) {
	c.failed++
	if c.firstErr == nil {
		c.firstErr = err
	}
}

// runLoad runs spec.clients concurrent SMTP clients until the budget is
// spent and returns what they measured.
func runLoad(ctx context.Context, spec loadSpec) loadResult {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	b := &budget{limit: int64(spec.messages)}
	if spec.duration > 0 {
		b.deadline = time.Now().Add(spec.duration)
	}
	body := messageBody(spec.size)
	var failures atomic.Int64
	stats := make([]clientStats, spec.clients)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range stats {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := &client{spec: spec, id: i, body: body, st: &stats[i], onFail: func() {
				if failures.Add(1) >= maxFailures {
					cancel()
				}
			}}
			if spec.reuse {
				cl.runReuse(ctx, b)
			} else {
				cl.runNew(ctx, b)
			}
		}()
	}
	wg.Wait()
	res := loadResult{elapsed: time.Since(start)}
	for _, s := range stats {
		res.accepted += s.accepted
		res.failed += s.failed
		res.msgLat = append(res.msgLat, s.msgLat...)
		res.connLat = append(res.connLat, s.connLat...)
		if res.firstErr == nil {
			res.firstErr = s.firstErr
		}
	}
	return res
}

// client is one simulated sender.
type client struct {
	spec   loadSpec
	id     int
	seq    int
	body   []byte
	st     *clientStats
	onFail func()
}

func (c *client) fail(err error) {
	c.st.fail(err)
	c.onFail()
}

// open connects, greets and authenticates when the spec says so.
func (c *client) open(ctx context.Context) (*smtpConn, error) {
	s, err := dialSMTP(ctx, c.spec.addr)
	if err != nil {
		return nil, err
	}
	err = s.hello("bbsbench.invalid")
	if err == nil && c.spec.user != "" {
		err = s.authPlain(c.spec.user, c.spec.pass)
	}
	if err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// transaction sends one message and records its latency.
func (c *client) transaction(s *smtpConn) error {
	c.seq++
	t := time.Now()
	header, body := c.header(), c.body
	if c.spec.text != nil {
		header, body = nil, c.spec.text
	}
	if err := s.send(c.spec.from, c.spec.to, header, body); err != nil {
		return err
	}
	c.st.msgLat = append(c.st.msgLat, time.Since(t))
	c.st.accepted++
	return nil
}

// runNew sends every message over a connection of its own.
func (c *client) runNew(ctx context.Context, b *budget) {
	for b.take(ctx) {
		t := time.Now()
		s, err := c.open(ctx)
		if err != nil {
			c.fail(err)
			continue
		}
		err = c.transaction(s)
		if err == nil {
			err = s.quit()
			if err == nil {
				c.st.connLat = append(c.st.connLat, time.Since(t))
			}
		}
		s.close()
		if err != nil {
			c.fail(err)
		}
	}
}

// runReuse keeps one connection and sends RSET before each further
// message; after an error it reconnects.
func (c *client) runReuse(ctx context.Context, b *budget) {
	var s *smtpConn
	defer func() {
		if s != nil {
			_ = s.quit()
			s.close()
		}
	}()
	for b.take(ctx) {
		var err error
		if s == nil {
			s, err = c.open(ctx)
		} else {
			err = s.cmd("RSET", 250)
		}
		if err == nil {
			err = c.transaction(s)
		}
		if err != nil {
			c.fail(err)
			if s != nil {
				s.close()
				s = nil
			}
		}
	}
}

// header is the message header of this client's current message: unique
// Message-ID and Subject, so no server can treat two messages as one.
func (c *client) header() []byte {
	return fmt.Appendf(nil, "From: Bench <%s>\r\nTo: <%s>\r\nSubject: bbsbench %d/%d\r\n"+
		"Date: %s\r\nMessage-ID: <%d.%d.%d@bbsbench.invalid>\r\n\r\n",
		c.spec.from, c.spec.to, c.id, c.seq, time.Now().Format(time.RFC1123Z),
		time.Now().UnixNano(), c.id, c.seq)
}

// headerAllowance is about what header() writes; the body makes up the
// rest of the requested size.
const headerAllowance = 200

// messageBody returns CRLF lines of printable text that, after a header,
// make a message of about size bytes. No line starts with a dot.
func messageBody(size int) []byte {
	n := max(size-headerAllowance, 2)
	const line = "The quick brown fox jumps over the lazy dog while the BBS takes its mail."
	var sb strings.Builder
	for sb.Len() < n {
		l := line
		if room := n - sb.Len() - 2; room < len(l) {
			l = l[:max(room, 0)]
		}
		sb.WriteString(l)
		sb.WriteString("\r\n")
	}
	return []byte(sb.String())
}
