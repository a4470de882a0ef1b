package mailproc_test

import (
	"errors"
	"reflect"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/mailproc"
)

// JavaScriptTimeLimit stops a script that runs longer, even when the
// processors' own time limit is longer; native processors keep theirs.
func TestJSTimeLimitFromSbbsIni(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	s := tr.load(t, "[Loop]\nEval = while (true) {}\n[Native]\nNative = true\nCommand = sleep 0.5\n", func(c *mailproc.Config) {
		c.Timeout = 30 * time.Second
		c.JSTimeLimit = 200 * time.Millisecond
	})
	out := run(t, s, input(user1))
	if len(out.Failed) != 1 || out.Failed[0].Processor != "Loop" || !errors.Is(out.Failed[0].Err, mailproc.ErrTimeout) ||
		!strings.Contains(out.Failed[0].Err.Error(), "200ms") {
		t.Fatalf("failures %+v, want Loop stopped at 200ms and the native processor done", out.Failed)
	}
}

// JavaScriptMaxBytes stops a script whose data grows past it; the message
// goes on unchanged to the next processor. A script that stays below it
// runs to its end. The test reports how far the heap grew past the limit
// before the script was stopped.
func TestJSMemoryLimit(t *testing.T) {
	t.Parallel()
	const limit = 32 << 20
	tr := newTree(t)
	s := tr.load(t, `[Hog]
Eval = var a = [], chunk = new Array(1001).join("x"); for (var i = 0; ; i++) a.push(chunk + i);
[Modest]
Eval = var a = [], chunk = new Array(1001).join("y"); for (var i = 0; i < 2000; i++) a.push(chunk + i); log("modest done " + a.length);
`, func(c *mailproc.Config) { c.JSMaxBytes = limit })

	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	// The first run's data, dead but not yet collected when the second
	// starts, must not count in the second's favour.
	out := run(t, s, input(user1))
	if len(out.Failed) != 1 || !errors.Is(out.Failed[0].Err, mailproc.ErrMemoryLimit) {
		t.Fatalf("first run: failures %+v, want Hog stopped at the memory limit", out.Failed)
	}
	out = run(t, s, input(user1))
	close(done)
	if len(out.Failed) != 1 || out.Failed[0].Processor != "Hog" || !errors.Is(out.Failed[0].Err, mailproc.ErrMemoryLimit) {
		t.Fatalf("failures %+v, want Hog stopped at the memory limit", out.Failed)
	}
	if !reflect.DeepEqual(out.Ran, []string{"Hog", "Modest"}) || !reflect.DeepEqual(out.Rcpts, []envelope.Rcpt{user1}) {
		t.Fatalf("outcome %+v", out)
	}
	if !strings.Contains(tr.log.String(), "modest done 2000") {
		t.Errorf("the script below the limit did not finish:\n%s", tr.log)
	}
	t.Logf("%v", out.Failed[0].Err)
	t.Logf("limit %d MiB: heap peaked %d MiB above the start (objects, garbage included); two runs took %v",
		limit>>20, (int64(peak.Load())-int64(before.HeapAlloc))>>20, time.Since(start).Round(time.Millisecond))
}
