package sendmail

import (
	"context"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"time"
)

// dispatcher holds the jobs waiting to start and runs them on up to
// Concurrency workers. A worker takes jobs one after another; one that
// kept its connection open takes a job for the same destination first, so
// a burst of mail to one host goes out over few connections.
type dispatcher struct {
	s   *Sender
	ctx context.Context // deliveries run under this one
	// low tells the runner that fewer than a claim's worth of entries
	// wait to start; it holds at most one signal.
	low chan struct{}
	wg  sync.WaitGroup

	mu      sync.Mutex
	pending []*job
	queued  int // entries in pending
	workers int // running worker goroutines
	idle    int // workers between jobs
	closed  bool
	n       int // entries handed over in all
}

func newDispatcher(s *Sender, ctx context.Context) *dispatcher {
	return &dispatcher{s: s, ctx: ctx, low: make(chan struct{}, 1)}
}

func (d *dispatcher) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.n
}

// wantsMore reports whether fewer than a claim's worth of entries wait.
func (d *dispatcher) wantsMore() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return !d.closed && d.queued < d.s.cfg.ClaimBatch
}

// add queues jobs and starts workers for them, up to Concurrency.
func (d *dispatcher) add(jobs []*job) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, j := range jobs {
		d.n += len(j.entries)
		d.queued += len(j.entries)
		d.pending = append(d.pending, j)
	}
	for d.workers < d.s.cfg.Concurrency && d.idle < len(d.pending) {
		d.workers++
		d.idle++
		d.wg.Add(1)
		go d.work()
	}
}

// take hands a worker its next job: the first one for route when the
// worker has a connection open for it, else the oldest. It returns nil,
// and counts the worker out, when there is none.
func (d *dispatcher) take(route string, open bool) *job {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || len(d.pending) == 0 {
		d.workers--
		d.idle--
		return nil
	}
	i := 0
	if open {
		if k := slices.IndexFunc(d.pending, func(j *job) bool { return j.domain == route }); k >= 0 {
			i = k
		}
	}
	j := d.pending[i]
	d.pending = slices.Delete(d.pending, i, i+1)
	d.queued -= len(j.entries)
	d.idle--
	if d.queued < d.s.cfg.ClaimBatch {
		select {
		case d.low <- struct{}{}:
		default:
		}
	}
	return j
}

func (d *dispatcher) done() {
	d.mu.Lock()
	d.idle++
	d.mu.Unlock()
}

// work runs jobs until none is left, then closes its connection.
func (d *dispatcher) work() {
	defer d.wg.Done()
	w := &worker{}
	defer func() {
		// runJob recovers delivery panics itself; this is for the
		// bookkeeping around it.
		if p := recover(); p != nil {
			d.s.log.Error("SendMail worker panicked", "panic", p, "stack", string(debug.Stack()))
			w.discard(d.s)
		} else {
			w.drop(d.s)
		}
		w.waitSettled()
	}()
	for {
		j := d.take(w.route())
		if j == nil {
			return
		}
		d.s.runJob(d.ctx, w, j)
		d.done()
	}
}

// close stops handing out jobs and defers those not started, untouched,
// so they leave the in-transit state.
func (d *dispatcher) close() {
	d.mu.Lock()
	d.closed = true
	left := d.pending
	d.pending, d.queued = nil, 0
	d.mu.Unlock()
	for _, j := range left {
		for _, e := range j.entries {
			d.s.settleDefer(e, "not attempted: shutting down")
		}
	}
}

// shutdown closes d, waits up to grace for running deliveries, then
// cancels them and waits for them to settle.
func (d *dispatcher) shutdown(grace time.Duration, cancel context.CancelFunc) {
	d.close()
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
