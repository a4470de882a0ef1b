package store_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/store"
)

// crashEnv names the mailbase the helper process delivers into.
const crashEnv = "BBSMAIL_STORE_CRASH_DB"

// TestDeliverSurvivesKill checks the promise the SMTP server's 250 rests
// on: once Deliver has returned, the message survives the process being
// killed outright. A child process delivers from several goroutines and
// reports each message right after Deliver returns; the child is killed
// with SIGKILL in the middle of its burst, and every reported message must
// be in the reopened mailbase, intact.
func TestDeliverSurvivesKill(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("spawns processes")
	}
	for round, killAfter := range []int{5, 40, 120} {
		t.Run(strconv.Itoa(round), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "mail.db")
			db, err := store.Open(path, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			addUsers(t, db, "Alpha")
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			acked := runAndKill(t, path, killAfter)
			verifyAcked(t, path, acked)
		})
	}
}

// runAndKill starts the helper, kills it after killAfter acknowledgements
// and returns every acknowledgement it printed: message id → tag.
func runAndKill(t *testing.T, path string, killAfter int) map[uint64]string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[uint64]string{}
	sc := bufio.NewScanner(out)
	killed := false
	for sc.Scan() {
		id, tag, ok := strings.Cut(sc.Text(), " ")
		n, err := strconv.ParseUint(id, 10, 64)
		if !ok || err != nil {
			continue // the test framework's own output
		}
		acked[n] = tag
		if !killed && len(acked) >= killAfter {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	_ = cmd.Wait()
	if !killed {
		t.Fatalf("helper ended after %d messages before it was killed; stderr:\n%s", len(acked), stderr.String())
	}
	return acked
}

func verifyAcked(t *testing.T, path string, acked map[uint64]string) {
	t.Helper()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
	for id, tag := range acked {
		text, _, err := db.ReadMessage(1, id)
		if err != nil {
			t.Fatalf("acknowledged message %d (%s) lost: %v", id, tag, err)
		}
		if !bytes.Contains(text, []byte("Subject: "+tag+"\r\n")) {
			t.Fatalf("message %d is not %s:\n%s", id, tag, text)
		}
	}
	t.Logf("%d acknowledged messages all present", len(acked))
}

// TestCrashHelper is the child process of TestDeliverSurvivesKill; run on
// its own it does nothing.
func TestCrashHelper(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("helper process for TestDeliverSurvivesKill")
	}
	db, err := store.Open(path, store.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	// The cap only matters if the parent dies and never kills us.
	deadline := time.Now().Add(time.Minute)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				tag := fmt.Sprintf("g%d-%d", g, i)
				msg := "Subject: " + tag + "\r\n\r\n" + strings.Repeat("crash test body line\r\n", 50)
				env := &envelope.Envelope{Rcpts: []envelope.Rcpt{{Kind: envelope.KindMailbox, User: 1}}}
				r, err := db.Deliver(env, []byte(msg))
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Fprintf(os.Stdout, "%d %s\n", r.Copies[0].ID, tag)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	os.Exit(3)
}
