package store

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
)

// BenchmarkDeliverCost delivers 4 KiB messages to one mailbox one after
// another (a commit each) and reports what a commit costs in figures that
// do not swing with the load of a shared machine: the page writes bbolt
// issues and the CPU time of the process per delivery.
func BenchmarkDeliverCost(b *testing.B) {
	db, err := Open(filepath.Join(b.TempDir(), "mail.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	user, err := db.AddUser(User{Alias: "Bench"}, "")
	if err != nil {
		b.Fatal(err)
	}
	msg := []byte("Subject: cost\r\n\r\n" + strings.Repeat("x", 4096-19) + "\r\n")
	env := &envelope.Envelope{Rcpts: []envelope.Rcpt{{Kind: envelope.KindMailbox, User: user}}}
	before := db.bolt.Stats().TxStats
	cpu0 := cpuTime()
	n := 0
	for b.Loop() {
		if _, err := db.Deliver(env, msg); err != nil {
			b.Fatal(err)
		}
		n++
	}
	after := db.bolt.Stats().TxStats
	b.ReportMetric(float64(after.GetWrite()-before.GetWrite())/float64(n), "writes/op")
	b.ReportMetric(float64(after.GetPageCount()-before.GetPageCount())/float64(n), "pages/op")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(n), "cpu-µs/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
