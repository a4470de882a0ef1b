package store_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/store"
)

// TestConcurrentDeliveries runs many sessions at once, some of whose
// deliveries fail inside the same group commit as good ones. A failed
// delivery must store nothing and must not disturb the others: every good
// delivery is stored exactly once, with its own receipt, and the reference
// counts stay right.
func TestConcurrentDeliveries(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	users := addUsers(t, db, "Alpha", "Beta", "Gamma", "Delta")
	const sessions, perSession = 12, 15
	var wg sync.WaitGroup
	errs := make(chan error, sessions*perSession)
	for s := 0; s < sessions; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perSession; i++ {
				tag := fmt.Sprintf("s%d-%d", s, i)
				env := &envelope.Envelope{ID: tag, Rcpts: []envelope.Rcpt{
					mailboxRcpt(users[s%len(users)], "X-Tag: "+tag+"\r\n"),
					{Kind: envelope.KindRemote, NetAddr: tag + "@remote.example"},
				}}
				if i%5 == 4 {
					env.Rcpts = append(env.Rcpts, mailboxRcpt(9999, "")) // fails
				}
				r, err := db.Deliver(env, []byte("Subject: "+tag+"\r\n\r\nbody\r\n"))
				switch {
				case i%5 == 4 && !errors.Is(err, store.ErrNotFound):
					errs <- fmt.Errorf("%s: failing delivery returned %v", tag, err)
				case i%5 != 4 && err != nil:
					errs <- fmt.Errorf("%s: %w", tag, err)
				case i%5 != 4 && (len(r.Copies) != 2 || r.Remote != 1 || len(r.QueueIDs) != 1):
					errs <- fmt.Errorf("%s: receipt %+v", tag, r)
				case i%5 != 4:
					text, info, err := db.ReadMessage(r.Copies[0].User, r.Copies[0].ID)
					if err != nil || info.Subject != tag || string(text[:len("X-Tag: "+tag)]) != "X-Tag: "+tag {
						errs <- fmt.Errorf("%s: read back %q %+v %v", tag, text, info, err)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	good := sessions * perSession * 4 / 5
	st, err := db.Stats()
	if err != nil || st.Messages != good || st.Queue != good || st.Bodies != good {
		t.Fatalf("stats %+v %v; want %d of each", st, err, good)
	}
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
}
