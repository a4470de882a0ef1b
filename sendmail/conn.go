package sendmail

import (
	"context"
	"net"
)

// maxTransactionsPerConn bounds the transactions one connection carries,
// so that one long session does not hold a host's connection slot for
// ever and the load spreads over fresh connections (and, for a domain
// with several mail exchangers, over its hosts). A server with a lower
// limit of its own answers 421 or closes; the job then goes over a new
// connection (see reuse).
const maxTransactionsPerConn = 100

// conn is an open SMTP session between transactions. It holds one of the
// host's connection slots until it is closed.
type conn struct {
	c     *client
	route string // the job domain it delivered for; "" under RelayTx
	key   string // host:port, the hostLimiter key
	host  string
	ip    net.IP
	uses  int         // transactions it has carried
	stop  func() bool // unregisters the close-on-cancel hook
}

// worker is one delivery goroutine. Between jobs it may keep the
// connection of its last transaction, which deliver reuses for the next
// job to the same destination.
type worker struct {
	conn *conn
	// settling holds, oldest first, one channel per job whose outcomes
	// are still being told to the queue; each is closed when that is done.
	settling []chan struct{}
}

// maxUnsettled is how many delivered jobs per worker may wait for the
// queue to record them while the worker goes on with the next
// transaction. The queue records deliveries in groups with one commit
// each; letting a worker run ahead of the commits is what makes the groups
// large. A crash can repeat at most this many transactions per worker
// (plus the one it was in), which a mail queue accepts rather than lose
// mail (RFC 5321 §6.1).
const maxUnsettled = 4

// settled makes room for one more job being settled: it waits for the
// oldest while the worker has maxUnsettled.
func (w *worker) settled() {
	if len(w.settling) >= maxUnsettled {
		<-w.settling[0]
		w.settling = w.settling[1:]
	}
}

// waitSettled waits until every job's outcomes are in the queue.
func (w *worker) waitSettled() {
	for _, ch := range w.settling {
		<-ch
	}
	w.settling = nil
}

// route returns the destination of the kept connection, if any.
func (w *worker) route() (string, bool) {
	if w.conn == nil {
		return "", false
	}
	return w.conn.route, true
}

// drop ends the kept connection politely.
func (w *worker) drop(s *Sender) {
	if w.conn != nil {
		s.closeConn(w.conn, true)
		w.conn = nil
	}
}

// discard closes the kept connection without a word, for when its state
// is unknown.
func (w *worker) discard(s *Sender) {
	if w.conn != nil {
		s.closeConn(w.conn, false)
		w.conn = nil
	}
}

// closeConn ends a session (with QUIT when quit is set) and frees its
// host slot.
func (s *Sender) closeConn(cn *conn, quit bool) {
	if quit {
		cn.c.quit()
	}
	cn.stop()
	_ = cn.c.close()
	s.hosts.release(cn.key)
}

// keep decides what becomes of a connection after a transaction: the
// worker keeps it for the next job when the transaction ended in 250 and
// the connection has carried fewer than maxTransactionsPerConn; otherwise
// it is closed with QUIT.
func (s *Sender) keep(ctx context.Context, w *worker, cn *conn, reusable bool) {
	cn.uses++
	if reusable && cn.uses < maxTransactionsPerConn && ctx.Err() == nil {
		w.conn = cn
		return
	}
	s.closeConn(cn, true)
}

// reuse runs j's transaction on the worker's kept connection, starting
// with an RSET that proves the session still works. It reports whether the
// attempt is finished: every recipient has a definitive answer, or the
// connection broke after the message was sent, when a retry could deliver
// it twice. Otherwise the caller goes on with a fresh connection for the
// recipients still pending: the server never took the message, so asking
// again is safe (a server that dropped an idle connection, or answers 421
// to a connection it considers used up).
func (s *Sender) reuse(ctx context.Context, w *worker, j *job, rs []*rcptState) bool {
	cn := w.conn
	w.conn = nil
	reusable, err := s.transaction(cn.c, j, rs, true)
	if err != nil {
		s.log.Info("SendMail attempt failed on a reused connection", "host", cn.host, "ip", cn.ip.String(), "err", err)
		sent := cn.c.dataSent
		s.closeConn(cn, false)
		if !sent {
			return ctx.Err() != nil || len(pending(rs)) == 0
		}
		for _, r := range pending(rs) {
			r.setErr(cn.host, err)
		}
		return true
	}
	s.keep(ctx, w, cn, reusable)
	return ctx.Err() != nil || len(pending(rs)) == 0
}
