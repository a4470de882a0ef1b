package store_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/store"
)

// BenchmarkDeliverParallel measures deliveries of a 4 KiB message to one
// local mailbox from 1, 16 and 64 concurrent sessions, each committed to
// disk. "ours" is the shipped group-commit setting; "nobatch" commits every
// delivery alone and "bbolt" uses bbolt's own batch defaults, for
// comparison. The msgs/s metric is what docs/mailbase.md quotes.
func BenchmarkDeliverParallel(b *testing.B) {
	configs := []struct {
		name string
		opts store.Options
	}{
		{"ours", store.Options{}},
		{"nobatch", store.Options{MaxBatchSize: 1}},
		{"bbolt", store.Options{MaxBatchSize: 1000, MaxBatchDelay: 10 * time.Millisecond}},
	}
	msg := []byte("Subject: benchmark\r\n\r\n" + strings.Repeat("x", 4096-24) + "\r\n")
	for _, goroutines := range []int{1, 16, 64} {
		for _, c := range configs {
			b.Run(fmt.Sprintf("g=%d/%s", goroutines, c.name), func(b *testing.B) {
				benchDeliver(b, c.opts, goroutines, msg)
			})
		}
	}
}

func benchDeliver(b *testing.B, opts store.Options, goroutines int, msg []byte) {
	db, err := store.Open(filepath.Join(b.TempDir(), "mail.db"), opts)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	users := make([]string, goroutines)
	for i := range users {
		users[i] = fmt.Sprintf("user%d", i)
	}
	nums := addUsers(b, db, users...)
	trace := []byte("Return-Path: <bench@example.org>\r\nReceived: from bench\r\n")
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		fail atomic.Pointer[error]
	)
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	start := time.Now()
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			env := &envelope.Envelope{Rcpts: []envelope.Rcpt{{Kind: envelope.KindMailbox, User: nums[g], Trace: trace}}}
			for next.Add(1) <= int64(b.N) {
				if _, err := db.Deliver(env, msg); err != nil {
					fail.Store(&err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if err := fail.Load(); err != nil {
		b.Fatal(*err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
}
