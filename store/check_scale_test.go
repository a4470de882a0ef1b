package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
	bolt "go.etcd.io/bbolt"
)

// TestCheckScale times DB.Check on a mailbase of N small messages spread
// over 1000 users (docs/operations.md has the figure). It is a
// measurement, not a test of behaviour: it runs only when asked, with
// BBSMAIL_CHECK_SCALE=N, in BBSMAIL_CHECK_DIR (default a temporary
// directory; 1M messages take about 650 MB).
func TestCheckScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("BBSMAIL_CHECK_SCALE"))
	if n == 0 {
		t.Skip("a measurement: set BBSMAIL_CHECK_SCALE=N to run it")
	}
	dir := os.Getenv("BBSMAIL_CHECK_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, "scale.db")
	_ = os.Remove(path)
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	users := 1000
	for u := 1; u <= users; u++ {
		if _, err := db.AddUser(User{Alias: fmt.Sprintf("user%d", u)}, ""); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	for done := 0; done < n; {
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			for i := 0; i < 5000 && done < n; i++ {
				msg := fmt.Sprintf("From: joe@example.org\r\nTo: user@bbs\r\nSubject: message %d\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\nMessage-ID: <%d@example.org>\r\n\r\nHello there, this is message %d.\r\n", done, done, done)
				env := &envelope.Envelope{Rcpts: []envelope.Rcpt{{Kind: envelope.KindMailbox, User: uint32(done%users + 1)}}}
				d := delivery{env: env, msg: []byte(msg), sum: summarize([]byte(msg)), now: time.Now()}
				var r Receipt
				if err := d.store(tx, &r); err != nil {
					return err
				}
				done++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("filled %d messages in %v", n, time.Since(start))
	fi, _ := os.Stat(path)
	start = time.Now()
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
	t.Logf("Check on %d messages, %d bytes: %v", n, fi.Size(), time.Since(start))
}
