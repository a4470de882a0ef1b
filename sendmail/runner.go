package sendmail

import (
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
	wake   chan struct{}

	mu       sync.Mutex
	inflight map[uint64]bool // entries claimed and not yet settled

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

// Run delivers the queue until ctx is done: it claims the entries that are
// due, delivers them, then sleeps until the next entry is due, Wake is
// called, or RescanFrequency passes. On the first scan, with
// SendInTransit, it also claims entries a crash left in transit. When ctx
// ends, Run waits up to ShutdownGrace for deliveries in progress; those
// still running are then cancelled and deferred.
func (s *Sender) Run(ctx context.Context) error {
	s.log.Info("SendMail thread started")
	defer s.log.Info("SendMail thread terminated")
	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	d := newDispatcher(s, dctx)
	timer := time.NewTimer(0)
	defer timer.Stop()
	first := true
	for ctx.Err() == nil {
		full, err := s.scan(ctx, d, first && s.cfg.SendInTransit)
		first = false
		wait := s.nextWait()
		if err != nil {
			s.log.Error("SendMail queue scan failed", "err", err)
			wait = min(time.Minute, s.cfg.RescanFrequency)
		} else if full {
			continue
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
		case <-s.wake:
		case <-timer.C:
		}
	}
	d.shutdown(s.cfg.ShutdownGrace, cancel)
	return nil
}

// RunOnce claims and delivers everything due now, as the first scan of Run
// does (SendInTransit included), and returns when those deliveries are
// settled. It reports how many entries it handled.
func (s *Sender) RunOnce(ctx context.Context) (int, error) {
	d := newDispatcher(s, ctx)
	total := 0
	inTransit := s.cfg.SendInTransit
	for {
		n := d.count()
		full, err := s.scan(ctx, d, inTransit)
		inTransit = false
		total += d.count() - n
		if err != nil || !full || ctx.Err() != nil {
			d.wg.Wait()
			return total, err
		}
	}
}

// nextWait is how long to sleep: until the earliest waiting entry, at most
// RescanFrequency, at least a second (so a clock step cannot spin us).
func (s *Sender) nextWait() time.Duration {
	wait := s.cfg.RescanFrequency
	next, ok, err := s.q.NextQueueTime()
	if err != nil {
		s.log.Error("SendMail reading the queue", "err", err)
		return wait
	}
	if ok {
		wait = min(wait, max(next.Sub(s.cfg.Now()), time.Second))
	}
	return wait
}

// job is one transaction: recipients at one destination sharing the
// reverse path and the message bytes.
type job struct {
	domain      string // route key: destination domain[:port], "" under RelayTx
	reversePath string
	msg         []byte
	entries     []Entry
}

// scan claims one batch, groups it into jobs and hands them to d. full
// reports a batch as large as asked for: more may be due.
func (s *Sender) scan(ctx context.Context, d *dispatcher, inTransit bool) (bool, error) {
	entries, err := s.q.QueueClaim(s.cfg.Now(), s.cfg.ClaimBatch, inTransit)
	if err != nil {
		return false, fmt.Errorf("claiming queue entries: %w", err)
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
	for _, j := range s.group(fresh) {
		d.start(ctx, j)
	}
	return len(entries) >= s.cfg.ClaimBatch, nil
}

// group sorts claimed entries into jobs. Entries whose message cannot be
// read or whose address cannot be routed become jobs of their own, and
// fail inside the delivery like any other.
func (s *Sender) group(entries []Entry) []*job {
	var jobs []*job
	byKey := map[string]*job{}
	for _, e := range entries {
		msg, err := s.q.QueueMessage(e.ID)
		if err != nil {
			s.log.Error("SendMail reading queued message", "id", e.ID, "err", err)
			s.settleDefer(e, fmt.Sprintf("reading queued message: %v", err))
			continue
		}
		_, domain, err := destination(e.Rcpt)
		if err != nil {
			jobs = append(jobs, &job{domain: "", reversePath: e.ReversePath, msg: msg, entries: []Entry{e}})
			continue
		}
		if s.cfg.RelayTx {
			domain = ""
		}
		sum := sha256.Sum256(msg)
		key := domain + "\x00" + e.ReversePath + "\x00" + string(sum[:])
		j := byKey[key]
		if j == nil || len(j.entries) >= maxRcptsPerTransaction {
			j = &job{domain: domain, reversePath: e.ReversePath, msg: msg}
			byKey[key] = j
			jobs = append(jobs, j)
		}
		j.entries = append(j.entries, e)
	}
	return jobs
}

// runJob makes one delivery attempt for j and settles every entry. A panic
// defers the entries not yet settled, so none stays in transit.
func (s *Sender) runJob(ctx context.Context, j *job) {
	rs := make([]*rcptState, len(j.entries))
	for i, e := range j.entries {
		rs[i] = &rcptState{entry: e}
	}
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("SendMail delivery panicked", "panic", p, "stack", string(debug.Stack()))
			for _, r := range rs {
				if !r.settled {
					s.settleDefer(r.entry, fmt.Sprintf("internal error: %v", p))
				}
			}
		}
	}()
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
		s.deliver(ctx, j, routable)
	}
	if ctx.Err() != nil {
		for _, r := range rs {
			if !r.done {
				r.err, r.reply, r.perm = "delivery interrupted by shutdown", "", false
			}
		}
	}
	s.settle(ctx, j, rs)
}

// settleDefer defers e with backoff and forgets it as in flight.
func (s *Sender) settleDefer(e Entry, why string) {
	next := s.cfg.Now().Add(Backoff(e.Attempts+1, s.cfg.RescanFrequency))
	if err := s.q.QueueDefer(e.ID, next, why); err != nil {
		s.log.Error("SendMail deferring queue entry", "id", e.ID, "err", err)
	}
	s.forget(e.ID)
}

func (s *Sender) forget(id uint64) {
	s.mu.Lock()
	delete(s.inflight, id)
	s.mu.Unlock()
}

// dispatcher runs jobs with at most Concurrency at once.
type dispatcher struct {
	s     *Sender
	ctx   context.Context // deliveries run under this one
	slots chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	n     int
}

func newDispatcher(s *Sender, ctx context.Context) *dispatcher {
	return &dispatcher{s: s, ctx: ctx, slots: make(chan struct{}, s.cfg.Concurrency)}
}

func (d *dispatcher) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.n
}

// start runs j once a slot is free. If ctx ends first, j's entries are
// deferred untouched so they leave the in-transit state.
func (d *dispatcher) start(ctx context.Context, j *job) {
	d.mu.Lock()
	d.n += len(j.entries)
	d.mu.Unlock()
	select {
	case d.slots <- struct{}{}:
	case <-ctx.Done():
		for _, e := range j.entries {
			d.s.settleDefer(e, "not attempted: shutting down")
		}
		return
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		defer func() { <-d.slots }()
		// A finished delivery changes when the next entry is due.
		defer d.s.Wake()
		d.s.runJob(d.ctx, j)
	}()
}

// shutdown waits up to grace for running deliveries, then cancels them
// and waits for them to settle.
func (d *dispatcher) shutdown(grace time.Duration, cancel context.CancelFunc) {
	done := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		cancel()
		<-done
	}
}

// hostLimiter bounds the connections open at once to one host:port.
type hostLimiter struct {
	max   int
	mu    sync.Mutex
	slots map[string]*hostSlot
}

type hostSlot struct {
	ch    chan struct{}
	users int
}

func newHostLimiter(max int) *hostLimiter {
	return &hostLimiter{max: max, slots: map[string]*hostSlot{}}
}

func (h *hostLimiter) acquire(ctx context.Context, key string) error {
	h.mu.Lock()
	sl := h.slots[key]
	if sl == nil {
		sl = &hostSlot{ch: make(chan struct{}, h.max)}
		h.slots[key] = sl
	}
	sl.users++
	h.mu.Unlock()
	select {
	case sl.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		h.drop(key, sl)
		return fmt.Errorf("waiting for a connection to %s: %w", key, ctx.Err())
	}
}

func (h *hostLimiter) release(key string) {
	h.mu.Lock()
	sl := h.slots[key]
	h.mu.Unlock()
	<-sl.ch
	h.drop(key, sl)
}

// drop forgets a host nobody is using, so the map does not grow with every
// host ever contacted.
func (h *hostLimiter) drop(key string, sl *hostSlot) {
	h.mu.Lock()
	defer h.mu.Unlock()
	sl.users--
	if sl.users == 0 {
		delete(h.slots, key)
	}
}
