package store

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// However many checks arrive at once, no more than cap(hashSlots) run:
// each holds a 19 MiB arena while it does.
func TestHashGateBoundsConcurrency(t *testing.T) {
	var running, peak atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 * cap(hashSlots) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := hashGate(context.Background(), func() {
				n := running.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				<-release
				running.Add(-1)
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	// Let the slots fill, then let everyone through.
	for peak.Load() < int32(cap(hashSlots)) {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if p := peak.Load(); p != int32(cap(hashSlots)) {
		t.Fatalf("%d checks ran at once, want at most %d", p, cap(hashSlots))
	}
}

// A check that cannot get a slot before its context ends fails with
// ErrBusy and never runs.
func TestHashGateQueueDeadline(t *testing.T) {
	hold := make(chan struct{})
	var wg sync.WaitGroup
	for range cap(hashSlots) {
		wg.Add(1)
		started := make(chan struct{})
		go func() {
			defer wg.Done()
			_ = hashGate(context.Background(), func() { close(started); <-hold })
		}()
		<-started
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	err := hashGate(ctx, func() { ran = true })
	close(hold)
	wg.Wait()
	if !errors.Is(err, ErrBusy) || ran {
		t.Fatalf("check with every slot taken and its context done: err %v, ran %v; want ErrBusy, not run", err, ran)
	}
}
