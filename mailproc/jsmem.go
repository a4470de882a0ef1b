package mailproc

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"time"
)

// memCheckInterval is how often the heap is looked at while scripts with
// a memory limit run. A script can allocate past its limit for at most
// this long (plus one forced collection) before it is stopped.
const memCheckInterval = 5 * time.Millisecond

// memSignal is the interrupt value of the memory limit.
type memSignal struct{ limit, grew int64 }

// Go's runtime cannot say how much memory one goroutine (one goja
// Runtime) holds, so the limit is enforced on the growth of the process's
// heap while the script runs. The cheap figure (heap objects, live and
// not yet swept) is watched; when it has grown by more than the limit, a
// collection is forced and the live heap measured: if that has grown by
// more than the limit since the script started, the script is stopped.
// Growth is not attributed: with several scripts running at once, each of
// them that has seen the heap grow by more than its limit is stopped, and
// so is a script that runs while the rest of the server allocates that
// much (a large message arriving in another session).
type memWatch struct {
	mu   sync.Mutex
	runs map[*memRun]struct{}
	stop chan struct{}
	// the live heap measured by the last collection forced here, and the
	// allocation counter then (startBase)
	measured         bool
	liveAt, allocsAt uint64
}

// memRun is one script under watch.
type memRun struct {
	limit   int64
	base    uint64 // live heap when the script started
	trigger uint64 // heap objects figure that warrants a collection
	hit     func(grew int64)
	fired   bool
}

var memWatcher memWatch

var memSamples = []metrics.Sample{
	{Name: "/memory/classes/heap/objects:bytes"},
	{Name: "/gc/heap/live:bytes"},
}

// heapFigures answers the heap objects figure and the live heap as of the
// last collection.
func heapFigures() (objects, live uint64) {
	s := make([]metrics.Sample, len(memSamples))
	copy(s, memSamples)
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 {
		objects = s[0].Value.Uint64()
	}
	if s[1].Value.Kind() == metrics.KindUint64 {
		live = s[1].Value.Uint64()
	}
	return objects, live
}

// watch puts a script under its limit; hit is called (once, from the
// watcher's goroutine) with the growth of the live heap when it is over. The returned function ends the
// watch.
func (w *memWatch) watch(limit int64, hit func(grew int64)) func() {
	base := startBase(limit)
	r := &memRun{limit: limit, base: base, trigger: base + uint64(limit), hit: hit}
	w.mu.Lock()
	if w.runs == nil {
		w.runs = map[*memRun]struct{}{}
	}
	w.runs[r] = struct{}{}
	if len(w.runs) == 1 {
		w.stop = make(chan struct{})
		go w.loop(w.stop)
	}
	w.mu.Unlock()
	return func() {
		w.mu.Lock()
		delete(w.runs, r)
		if len(w.runs) == 0 {
			close(w.stop)
		}
		w.mu.Unlock()
	}
}

func (w *memWatch) loop(stop chan struct{}) {
	t := time.NewTicker(memCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			w.check()
		}
	}
}

// check compares the heap with each script's trigger; only when one is
// passed is a collection forced, so a script that allocates and drops
// memory quickly costs at most one collection per limit's worth of
// allocation.
func (w *memWatch) check() {
	objects, _ := heapFigures()
	w.mu.Lock()
	suspect := false
	for r := range w.runs {
		suspect = suspect || (!r.fired && objects > r.trigger)
	}
	w.mu.Unlock()
	if !suspect {
		return
	}
	runtime.GC()
	objects, live := heapFigures()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.measured, w.liveAt, w.allocsAt = true, live, heapAllocs()
	for r := range w.runs {
		if r.fired {
			continue
		}
		if live > r.base && live-r.base > uint64(r.limit) {
			r.fired = true
			r.hit(int64(live - r.base))
			continue
		}
		r.trigger = max(r.base+uint64(r.limit), objects+uint64(r.limit)/4)
	}
}

// startBase is an upper bound of the live heap when a script starts,
// tight to a quarter of the limit. The heap objects figure includes
// garbage not yet collected (a previous script's data, for one), and the
// live heap of the last collection may be as stale; either would let the
// script grow by that much more. The live heap now is at most the live
// heap measured by the last collection forced here plus what was
// allocated since (a counter that only grows); when that slack exceeds a
// quarter of the limit, a collection is forced to measure afresh. So
// collections are forced at most once per quarter limit allocated by the
// whole server, not once per script.
func startBase(limit int64) uint64 {
	memWatcher.mu.Lock()
	defer memWatcher.mu.Unlock()
	allocs := heapAllocs()
	if memWatcher.measured && allocs-memWatcher.allocsAt <= uint64(limit)/4 {
		return memWatcher.liveAt + (allocs - memWatcher.allocsAt)
	}
	runtime.GC()
	_, live := heapFigures()
	memWatcher.measured, memWatcher.liveAt, memWatcher.allocsAt = true, live, heapAllocs()
	return live
}

// heapAllocs is the total of bytes ever allocated on the heap.
func heapAllocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 {
		return s[0].Value.Uint64()
	}
	return 0
}
