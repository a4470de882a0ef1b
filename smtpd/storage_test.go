package smtpd_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/smtpd"
)

// A full disk when the message is stored is answered 452 4.3.1
// (insufficient system storage), not 451 4.3.0: the sender keeps the
// message and tries again. A used-up quota and a mailbase that reached the
// file size limit (EFBIG) are the same to the sender.
func TestDiskFullIsInsufficientStorage(t *testing.T) {
	t.Parallel()
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EFBIG} {
		ts := startServer(t, smtpd.MTA, nil)
		ts.drop.mu.Lock()
		ts.drop.fail = fmt.Errorf("store: commit: %w", &os.PathError{Op: "write", Path: "data/bbsmail.db", Err: errno})
		ts.drop.mu.Unlock()
		got := sendThroughProcessors(t, ts)
		if len(got) != 1 || !strings.HasPrefix(got[0], "452 4.3.1 ") {
			t.Fatalf("%v: reply %q, want 452 4.3.1", errno, got)
		}
	}
}

// After Shutdown begins, a client between transactions that sends MAIL is
// told 421 4.3.2 and disconnected, while a transaction already in DATA
// finishes and is stored.
func TestShutdownRefusesNewTransactions(t *testing.T) {
	t.Parallel()
	ts := startServer(t, smtpd.MTA, nil)
	inData := ts.dial(t)
	inData.expect("220")
	inData.cmd("EHLO client.example", "250")
	inData.cmd("MAIL FROM:<joe@remote.example>", "250")
	inData.cmd("RCPT TO:<sysop@"+localDomain+">", "250")
	inData.cmd("DATA", "354")
	inData.send("From: <joe@remote.example>\r\nSubject: under way\r\n\r\nfirst line\r\n")

	idle := ts.dial(t)
	idle.expect("220")
	idle.cmd("EHLO other.example", "250")

	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		stopped <- ts.srv.Shutdown(ctx)
	}()
	// MAIL may still arrive before Shutdown has begun: retry on 250 with
	// RSET until the server refuses.
	for {
		idle.send("MAIL FROM:<late@remote.example>\r\n")
		l, err := idle.readLine()
		if err != nil {
			t.Fatalf("reading the reply to MAIL: %v", err)
		}
		if strings.HasPrefix(l, "421 4.3.2 ") {
			break
		}
		if !strings.HasPrefix(l, "250") {
			t.Fatalf("MAIL during shutdown: %q", l)
		}
		idle.cmd("RSET", "250")
	}
	if _, err := idle.readLine(); err == nil {
		t.Fatal("the session went on after 421")
	}
	inData.send("last line\r\n.\r\n")
	inData.expect("250")
	inData.cmd("QUIT", "221")
	if err := <-stopped; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if n := ts.drop.count(); n != 1 {
		t.Fatalf("%d messages stored, want the one in DATA", n)
	}
}
