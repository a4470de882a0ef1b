package store_test

import (
	"flag"
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

var growthMax = flag.Int("growth", 100_000, "BenchmarkMailboxGrowth: messages to deliver into the one mailbox")

// BenchmarkMailboxGrowth fills one mailbox with 4 KiB messages from 16
// concurrent deliveries and, at each power of ten from 10,000 up to
// -growth, prints the insert rate since the previous mark and the time to
// list the mailbox (what a POP3 login and STAT read). Flat insert rates
// mean delivery does not slow down as a mailbox grows. It ignores b.N:
// run it with -benchtime 1x, e.g.
//
//	go test -run XXX -bench MailboxGrowth -benchtime 1x ./store/ -growth 1000000
func BenchmarkMailboxGrowth(b *testing.B) {
	db, err := store.Open(filepath.Join(b.TempDir(), "mail.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	user := addUsers(b, db, "Bench")[0]
	msg := []byte("Subject: growth\r\n\r\n" + strings.Repeat("x", 4096-21) + "\r\n")
	env := &envelope.Envelope{Rcpts: []envelope.Rcpt{{Kind: envelope.KindMailbox, User: user,
		Trace: []byte("Return-Path: <bench@example.org>\r\nReceived: from bench\r\n")}}}
	done := 0
	for mark := 10_000; mark <= *growthMax; mark *= 10 {
		start := time.Now()
		if err := deliverN(db, env, msg, mark-done, 16); err != nil {
			b.Fatal(err)
		}
		rate := float64(mark-done) / time.Since(start).Seconds()
		done = mark
		start = time.Now()
		list, err := db.Mailbox(user)
		if err != nil || len(list) != mark {
			b.Fatalf("listing %d messages: %d, %v", mark, len(list), err)
		}
		listed := time.Since(start)
		// What a POP3 login reads before it answers STAT: sizes and
		// flags, not whole records.
		start = time.Now()
		sizes, err := db.MailboxSizes(user)
		if err != nil || len(sizes) != mark {
			b.Fatalf("sizes of %d messages: %d, %v", mark, len(sizes), err)
		}
		b.Logf("%9d messages: %7.0f inserts/s since the last mark; listing the mailbox %v; the POP3 login listing (sizes) %v",
			mark, rate, listed.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
		b.ReportMetric(rate, fmt.Sprintf("inserts/s@%d", mark))
	}
}

// deliverN delivers n copies of msg from the given number of goroutines.
func deliverN(db *store.DB, env *envelope.Envelope, msg []byte, n, goroutines int) error {
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		fail atomic.Pointer[error]
	)
	for range goroutines {
		wg.Go(func() {
			for next.Add(1) <= int64(n) && fail.Load() == nil {
				if _, err := db.Deliver(env, msg); err != nil {
					fail.Store(&err)
				}
			}
		})
	}
	wg.Wait()
	if err := fail.Load(); err != nil {
		return *err
	}
	return nil
}
