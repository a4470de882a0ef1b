package store_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/store"
)

// BenchmarkQueueCycle measures the mailbase's share of one outbound
// delivery with queues of several lengths: claim the next due entry (64
// others are in transit, as while SendMail works), remove a delivered one,
// read the next due time, and queue a new one so the length stays put.
// With the due index the cost does not grow with the queue; docs/mailbase.md
// quotes the figures.
func BenchmarkQueueCycle(b *testing.B) {
	for _, n := range []int{500, 2000, 8000} {
		b.Run(fmt.Sprintf("queue=%d", n), func(b *testing.B) {
			db, err := store.Open(filepath.Join(b.TempDir(), "mail.db"), store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			msg := []byte("Subject: benchmark\r\n\r\nHello.\r\n")
			now := time.Now()
			queue := func(count int) {
				rcpts := make([]envelope.Rcpt, count)
				for i := range rcpts {
					rcpts[i] = envelope.Rcpt{Kind: envelope.KindRemote, NetAddr: fmt.Sprintf("u%d@example.org", i)}
				}
				env := &envelope.Envelope{ReversePath: "a@bbs.example", Received: now, Rcpts: rcpts}
				if _, err := db.Deliver(env, msg); err != nil {
					b.Fatal(err)
				}
			}
			for left := n; left > 0; left -= min(left, 100) {
				queue(min(left, 100))
			}
			claimed, err := db.QueueClaim(now, 64, false)
			if err != nil || len(claimed) != 64 {
				b.Fatalf("claim: %d %v", len(claimed), err)
			}
			b.ResetTimer()
			for b.Loop() {
				got, err := db.QueueClaim(now, 1, false)
				if err != nil || len(got) != 1 {
					b.Fatalf("claim: %v %v", got, err)
				}
				if err := db.QueueDelivered(claimed[0].ID); err != nil {
					b.Fatal(err)
				}
				claimed = append(claimed[1:], got[0])
				if _, ok, err := db.NextQueueTime(); err != nil || !ok {
					b.Fatal(ok, err)
				}
				queue(1)
			}
		})
	}
}
