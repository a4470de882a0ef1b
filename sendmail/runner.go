package sendmail

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"
)

// maxRcptsPerTransaction keeps one transaction within the 100 recipients
// every server must accept (RFC 5321 §4.5.3.1.8).
const maxRcptsPerTransaction = 100

// Sender delivers the outbound queue. Create it with New and start it
// with Run; Wake tells it that new mail was queued.
type Sender struct {
	cfg    Config
	q      Queue
	drop   Maildrop
	log    *slog.Logger
	res    *Resolver
	resErr error // why no resolver could be built; every MX delivery defers with it
	hosts  *hostLimiter
	// removals groups the removal of delivered entries into few commits.
	removals *removals
	// wake holds at most one pending request, so any number of Wake
	// calls while the runner is busy amount to one more look at the
	// queue.
	wake chan struct{}

	mu       sync.Mutex
	inflight map[uint64]bool // entries claimed and not yet settled
	// While the runner sleeps, sleepUntil is when it will look at the
	// queue again (zero while that is being worked out); a deferral due
	// earlier wakes it. See sleep and deferred.
	sleeping   bool
	sleepUntil time.Time

	exemptMu sync.Mutex // serialises dnsbl_exempt.cfg appends
}

// New returns a Sender for cfg (zero fields take their defaults).
func New(cfg Config, deps Deps) *Sender {
	cfg = cfg.withDefaults()
	s := &Sender{
		cfg:      cfg,
		q:        deps.Queue,
		drop:     deps.Maildrop,
		log:      cfg.Logger,
		hosts:    newHostLimiter(cfg.PerHost),
		removals: &removals{q: deps.Queue, log: cfg.Logger},
		wake:     make(chan struct{}, 1),
		inflight: map[uint64]bool{},
	}
	s.res, s.resErr = NewResolver(cfg.DNSServer, cfg.DNSTCP, cfg.ResolvConf)
	if s.resErr != nil && !cfg.RelayTx {
		s.log.Error("SendMail cannot use DNS", "err", s.resErr)
	}
	return s
}

// Wake asks the running Sender to look at the queue now. It never blocks.
func (s *Sender) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run delivers the queue until ctx is done. It claims due entries in
// batches of ClaimBatch and hands them to up to Concurrency deliveries;
// while the queue has more due, it claims the next batch as soon as fewer
// than a batch wait to start, so the deliveries never run dry and the
// queue is not read after every delivery. Once nothing more is due it
// sleeps until the next entry is due, Wake is called, a deferral falls due
// earlier, or RescanFrequency passes. The first claim, with SendInTransit,
// also takes entries a crash left in transit. When ctx ends, Run defers
// the jobs not yet started, waits up to ShutdownGrace for deliveries in
// progress, then cancels them; they are deferred.
func (s *Sender) Run(ctx context.Context) error {
	s.log.Info("SendMail thread started")
	defer s.log.Info("SendMail thread terminated")
	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	d := newDispatcher(s, dctx)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	inTransit := s.cfg.SendInTransit
	for ctx.Err() == nil {
		dry, err := s.fill(ctx, d, inTransit)
		inTransit = false
		var expired <-chan time.Time
		var low <-chan struct{}
		switch {
		case err != nil:
			s.log.Error("SendMail queue scan failed", "err", err)
			timer.Reset(min(time.Minute, s.cfg.RescanFrequency))
			expired = timer.C
		case dry:
			timer.Reset(s.sleep())
			expired = timer.C
		default:
			// More is due than was claimed: claim again when the
			// deliveries have taken enough of what is waiting.
			low = d.low
		}
		select {
		case <-ctx.Done():
		case <-s.wake:
		case <-expired:
		case <-low:
		}
		s.awake()
	}
	d.shutdown(s.cfg.ShutdownGrace, cancel)
	return nil
}

// RunOnce claims and delivers everything due now, as Run does before it
// first sleeps (SendInTransit included), and returns when those
// deliveries are settled. It reports how many entries it handled.
func (s *Sender) RunOnce(ctx context.Context) (int, error) {
	d := newDispatcher(s, ctx)
	inTransit := s.cfg.SendInTransit
	var err error
	for {
		var dry bool
		dry, err = s.fill(ctx, d, inTransit)
		inTransit = false
		if err != nil || dry || ctx.Err() != nil {
			break
		}
		select {
		case <-d.low:
		case <-ctx.Done():
		}
	}
	if ctx.Err() != nil {
		d.close()
	}
	d.wg.Wait()
	return d.count(), err
}

// fill claims batches while fewer than ClaimBatch entries wait to be
// started. dry reports that a claim came back short: nothing more is due.
func (s *Sender) fill(ctx context.Context, d *dispatcher, inTransit bool) (dry bool, err error) {
	for d.wantsMore() && ctx.Err() == nil {
		n, err := s.claim(d, inTransit)
		if err != nil {
			return false, err
		}
		if n < s.cfg.ClaimBatch {
			return true, nil
		}
		// Entries in transit come back in every such claim; only the
		// first one after start-up takes them.
		inTransit = false
	}
	return false, nil
}

// claim claims one batch, groups it into jobs and hands them to d. It
// returns the size of the batch.
func (s *Sender) claim(d *dispatcher, inTransit bool) (int, error) {
	entries, err := s.q.QueueClaim(s.cfg.Now(), s.cfg.ClaimBatch, inTransit)
	if err != nil {
		return 0, fmt.Errorf("claiming queue entries: %w", err)
	}
	s.mu.Lock()
	fresh := entries[:0:0]
	for _, e := range entries {
		// With in-transit claiming, an entry we are delivering right now
		// can come back; leave it to the delivery that has it.
		if !s.inflight[e.ID] {
			s.inflight[e.ID] = true
			fresh = append(fresh, e)
		}
	}
	s.mu.Unlock()
	d.add(s.group(fresh))
	return len(entries), nil
}

// sleep returns how long the runner may sleep: until the earliest waiting
// entry, at most RescanFrequency, at least a second (so a clock step
// cannot spin us). It marks the runner asleep before it reads the queue,
// so that a deferral committed after the read wakes it if it falls due
// earlier (see deferred).
func (s *Sender) sleep() time.Duration {
	s.mu.Lock()
	s.sleeping, s.sleepUntil = true, time.Time{}
	s.mu.Unlock()
	wait := s.cfg.RescanFrequency
	next, ok, err := s.q.NextQueueTime()
	if err != nil {
		s.log.Error("SendMail reading the queue", "err", err)
	} else if ok {
		wait = min(wait, max(next.Sub(s.cfg.Now()), time.Second))
	}
	s.mu.Lock()
	s.sleepUntil = s.cfg.Now().Add(wait)
	s.mu.Unlock()
	return wait
}

func (s *Sender) awake() {
	s.mu.Lock()
	s.sleeping = false
	s.mu.Unlock()
}

// deferred is told of every entry deferred to next. Only a runner asleep
// past next needs waking; a busy one reads the next due time when it
// goes to sleep, and the deferral is committed by then.
func (s *Sender) deferred(next time.Time) {
	s.mu.Lock()
	early := s.sleeping && (s.sleepUntil.IsZero() || next.Before(s.sleepUntil))
	s.mu.Unlock()
	if early {
		s.Wake()
	}
}

// bigMessage is the size above which a claimed message is not kept in
// memory while its job waits to start; it is read again when the job
// runs. Up to two batches of jobs wait, and a batch of large messages
// must not hold gigabytes.
const bigMessage = 256 << 10

// job is one transaction: recipients at one destination sharing the
// reverse path and the message bytes.
type job struct {
	domain      string // route key: destination domain[:port], "" under RelayTx
	reversePath string
	msg         []byte // nil for a big message until the job runs
	size        int
	sum         [sha256.Size]byte // of a big message, to group its copies
	entries     []Entry
}

// sameMessage reports whether msg (with digest sum when it is big) is j's
// message. Different messages differ within their first lines (the trace),
// so comparing small ones directly is cheap.
func (j *job) sameMessage(msg []byte, sum [sha256.Size]byte) bool {
	if len(msg) != j.size {
		return false
	}
	if j.msg == nil {
		return sum == j.sum
	}
	return bytes.Equal(j.msg, msg)
}

// group sorts claimed entries into jobs: copies of one message to one
// destination from one sender share a transaction. Entries whose message
// cannot be read are deferred; entries whose address cannot be routed
// become jobs of their own, and fail inside the delivery like any other.
func (s *Sender) group(entries []Entry) []*job {
	type route struct{ domain, reversePath string }
	var jobs []*job
	byRoute := map[route][]*job{}
	for _, e := range entries {
		msg, err := s.q.QueueMessage(e.ID)
		if err != nil {
			s.log.Error("SendMail reading queued message", "id", e.ID, "err", err)
			s.settleDefer(e, fmt.Sprintf("reading queued message: %v", err))
			continue
		}
		var sum [sha256.Size]byte
		if len(msg) > bigMessage {
			sum = sha256.Sum256(msg)
		}
		_, domain, err := destination(e.Rcpt)
		if err != nil {
			jobs = append(jobs, newJob("", e, msg, sum))
			continue
		}
		if s.cfg.RelayTx {
			domain = ""
		}
		k := route{domain, e.ReversePath}
		var j *job
		for _, c := range byRoute[k] {
			if len(c.entries) < maxRcptsPerTransaction && c.sameMessage(msg, sum) {
				j = c
				break
			}
		}
		if j == nil {
			j = newJob(domain, e, msg, sum)
			byRoute[k] = append(byRoute[k], j)
			jobs = append(jobs, j)
			continue
		}
		j.entries = append(j.entries, e)
	}
	return jobs
}

func newJob(domain string, e Entry, msg []byte, sum [sha256.Size]byte) *job {
	j := &job{domain: domain, reversePath: e.ReversePath, size: len(msg), sum: sum, entries: []Entry{e}}
	if len(msg) <= bigMessage {
		j.msg = msg
	}
	return j
}

// load reads a big message back for its job.
func (s *Sender) load(j *job) error {
	if j.msg != nil {
		return nil
	}
	msg, err := s.q.QueueMessage(j.entries[0].ID)
	if err == nil && len(msg) != j.size {
		err = fmt.Errorf("queued message changed from %d to %d bytes", j.size, len(msg))
	}
	if err != nil {
		return fmt.Errorf("reading queued message: %w", err)
	}
	j.msg = msg
	return nil
}

// runJob makes one delivery attempt for j and settles every entry. The
// settling (queue updates, their commit, bounces) runs beside the
// worker's next transaction; runJob first waits for the previous job's, so
// a worker never has more than one job delivered and not yet settled. A
// panic defers the entries not yet settled, so none stays in transit, and
// drops the worker's connection, whose state is then unknown.
func (s *Sender) runJob(ctx context.Context, w *worker, j *job) {
	rs := make([]*rcptState, len(j.entries))
	for i, e := range j.entries {
		rs[i] = &rcptState{entry: e}
	}
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("SendMail delivery panicked", "panic", p, "stack", string(debug.Stack()))
			w.discard(s)
			s.deferUnsettled(rs, p)
		}
	}()
	if err := s.load(j); err != nil {
		s.log.Error("SendMail reading queued message", "id", j.entries[0].ID, "err", err)
		for _, r := range rs {
			r.settled = true
			s.settleDefer(r.entry, err.Error())
		}
		return
	}
	var routable []*rcptState
	for _, r := range rs {
		path, _, err := destination(r.entry.Rcpt)
		if err != nil {
			r.setErr("", err)
			continue
		}
		r.path = path
		routable = append(routable, r)
	}
	if len(routable) > 0 {
		s.deliver(ctx, w, j, routable)
	}
	if ctx.Err() != nil {
		for _, r := range rs {
			if !r.done {
				r.err, r.reply, r.perm = "delivery interrupted by shutdown", "", false
			}
		}
	}
	w.settled()
	done := make(chan struct{})
	w.settling = append(w.settling, done)
	go func() {
		defer close(done)
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("SendMail settling panicked", "panic", p, "stack", string(debug.Stack()))
				s.deferUnsettled(rs, p)
			}
		}()
		s.settle(ctx, j, rs)
	}()
}

// deferUnsettled defers the entries of rs whose outcome the queue has not
// been told, after a panic.
func (s *Sender) deferUnsettled(rs []*rcptState, p any) {
	for _, r := range rs {
		if !r.settled {
			r.settled = true
			s.settleDefer(r.entry, fmt.Sprintf("internal error: %v", p))
		}
	}
}

// settleDefer defers e with backoff and forgets it as in flight.
func (s *Sender) settleDefer(e Entry, why string) {
	next := s.cfg.Now().Add(Backoff(e.Attempts+1, s.cfg.RescanFrequency))
	if err := s.q.QueueDefer(e.ID, next, why); err != nil {
		s.log.Error("SendMail deferring queue entry", "id", e.ID, "err", err)
	}
	s.forget(e.ID)
	s.deferred(next)
}

func (s *Sender) forget(id uint64) {
	s.mu.Lock()
	delete(s.inflight, id)
	s.mu.Unlock()
}
