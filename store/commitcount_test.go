package store_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/store"
)

// OnCommit hears each commit with the number of write calls it carried:
// a lone delivery is a batch of one; under concurrent deliveries, some of
// which fail inside a shared commit, the batches add up to exactly the
// calls that succeeded, and a rolled-back transaction reports nothing.
func TestOnCommitBatchSize(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var batches []int
	db, err := store.Open(filepath.Join(t.TempDir(), "mail.db"), store.Options{Key: testKey(t), OnCommit: func(n int) {
		mu.Lock()
		defer mu.Unlock()
		batches = append(batches, n)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	users := addUsers(t, db, "Alpha", "Beta")
	total := func() (sum, commits int) {
		mu.Lock()
		defer mu.Unlock()
		for _, n := range batches {
			sum += n
		}
		return sum, len(batches)
	}
	before, commits := total()
	if _, err := db.Deliver(&envelope.Envelope{ID: "lone", Rcpts: []envelope.Rcpt{mailboxRcpt(users[0], "")}}, []byte("Subject: x\r\n\r\nx\r\n")); err != nil {
		t.Fatal(err)
	}
	if sum, c := total(); sum != before+1 || c != commits+1 {
		t.Fatalf("a lone delivery added %d calls in %d commits, want 1 in 1", sum-before, c-commits)
	}
	before, _ = total()
	const sessions, perSession = 8, 10
	var wg sync.WaitGroup
	for s := 0; s < sessions; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perSession; i++ {
				env := &envelope.Envelope{ID: fmt.Sprintf("s%d-%d", s, i), Rcpts: []envelope.Rcpt{mailboxRcpt(users[s%2], "")}}
				if i%5 == 4 {
					env.Rcpts = append(env.Rcpts, mailboxRcpt(9999, "")) // fails: no such user
				}
				_, _ = db.Deliver(env, []byte("Subject: y\r\n\r\ny\r\n"))
			}
		}()
	}
	wg.Wait()
	if sum, _ := total(); sum-before != sessions*perSession*4/5 {
		t.Errorf("commits carried %d calls, want %d (the good deliveries)", sum-before, sessions*perSession*4/5)
	}
}
