package sendmail_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/internal/testkit"
	"github.com/bbsmail/bbsmail/sendmail"
	"github.com/emersion/go-smtp"
)

// reuseEnv is a world with one peer reached by a forced host:port, so the
// destination is the same for every message; Concurrency is 1, so one
// worker carries every transaction and the connection count is exact.
func reuseEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	e.cfg.DNSServer = "127.0.0.1:1" // would fail if asked
	e.cfg.Concurrency = 1
	return e
}

// queueDistinct queues n different messages from one sender to the peer
// (different messages never share a transaction) and returns their ids.
func queueDistinct(e *env, p *peer, n int) []uint64 {
	ids := make([]uint64, n)
	for i := range ids {
		ids[i] = e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "joe@" + p.Addr},
			testMsg+fmt.Sprintf("message %d\r\n", i))
	}
	return ids
}

// bodies counts the messages the peer received, by the line that tells
// them apart.
func bodies(p *peer) map[string]int {
	seen := map[string]int{}
	for _, m := range p.received() {
		text := string(m.Data)
		seen[text[strings.LastIndex(text, "message "):]]++
	}
	return seen
}

func wantEachOnce(t *testing.T, p *peer, n int) {
	t.Helper()
	seen := bodies(p)
	for i := range n {
		if k := fmt.Sprintf("message %d\r\n", i); seen[k] != 1 {
			t.Errorf("peer received %q %d times, want once", k, seen[k])
		}
	}
	if len(p.received()) != n {
		t.Errorf("peer received %d messages, want %d", len(p.received()), n)
	}
}

// Several messages for one host go out one after another over a single
// connection instead of one connection each.
func TestReuseOneConnectionForManyMessages(t *testing.T) {
	t.Parallel()
	p := startPeer(t, peerOpts{})
	e := reuseEnv(t)
	ids := queueDistinct(e, p, 10)
	if n := e.runOnce(t); n != 10 {
		t.Fatalf("handled %d entries, want 10", n)
	}
	for _, id := range ids {
		if !e.q.delivered(id) {
			ent, _ := e.q.get(id)
			t.Fatalf("entry %d not delivered: %q", id, ent.LastError)
		}
	}
	wantEachOnce(t, p, 10)
	if c := p.connections(); c != 1 {
		t.Fatalf("10 messages took %d connections, want 1", c)
	}
}

// A connection carries at most 100 transactions; the rest go over a new
// one.
func TestReuseIsBounded(t *testing.T) {
	t.Parallel()
	p := startPeer(t, peerOpts{})
	e := reuseEnv(t)
	queueDistinct(e, p, 150)
	e.runOnce(t)
	wantEachOnce(t, p, 150)
	if c := p.connections(); c != 2 {
		t.Fatalf("150 messages took %d connections, want 2 (100 + 50)", c)
	}
}

// A server that drops a kept connection before the next transaction (an
// idle timeout, a limit of messages per connection) loses nothing and
// gets nothing twice: the messages it accepted stay delivered, and the
// next one goes over a new connection in the same run.
func TestReuseSurvivesDroppedConnection(t *testing.T) {
	t.Parallel()
	p := startPeer(t, peerOpts{})
	p.dropAtMail = 2
	e := reuseEnv(t)
	ids := queueDistinct(e, p, 5)
	e.runOnce(t)
	for _, id := range ids {
		if !e.q.delivered(id) {
			ent, _ := e.q.get(id)
			t.Fatalf("entry %d not delivered: %+v", id, ent)
		}
	}
	wantEachOnce(t, p, 5)
	if c := p.connections(); c != 3 {
		t.Fatalf("%d connections, want 3 (two messages on each)", c)
	}
}

// When a reused connection breaks after the message went out and before
// the reply, the server may have taken it: the entry is deferred, not sent
// again at once over another connection, and the messages after it are
// delivered once.
func TestReuseBrokenAfterDataDefers(t *testing.T) {
	t.Parallel()
	p := startPeer(t, peerOpts{})
	p.dropAfterData = 2
	e := reuseEnv(t)
	ids := queueDistinct(e, p, 3)
	e.runOnce(t)
	if !e.q.delivered(ids[0]) || !e.q.delivered(ids[2]) {
		t.Fatal("the messages before and after the broken one were not delivered")
	}
	ent, ok := e.q.get(ids[1])
	if !ok || ent.InTransit || ent.Attempts != 1 || ent.LastError == "" {
		t.Fatalf("the message whose reply was lost: %+v (queued %v), want deferred once", ent, ok)
	}
	if want := e.clock.Now().Add(time.Minute); !ent.NextAttempt.Equal(want) {
		t.Errorf("next attempt %v, want %v", ent.NextAttempt, want)
	}
	wantEachOnce(t, p, 3)
	if e.drop.count() != 0 {
		t.Error("a bounce was sent")
	}
}

// Through an authenticating relay, further transactions reuse the
// authenticated session; every message arrives as the BBS's user.
func TestReuseKeepsRelayAuthentication(t *testing.T) {
	t.Parallel()
	p := startPeer(t, peerOpts{users: map[string]string{"bbs": "Secret"}})
	e := relayEnv(t, p, sendmail.AuthPlain, "Secret")
	e.cfg.Concurrency = 1
	for i := range 5 {
		e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: fmt.Sprintf("u%d@far%d.test", i, i)},
			testMsg+fmt.Sprintf("message %d\r\n", i))
	}
	e.runOnce(t)
	wantEachOnce(t, p, 5)
	for _, m := range p.received() {
		if m.User != "bbs" {
			t.Fatalf("message accepted for user %q, want bbs", m.User)
		}
	}
	if c := p.connections(); c != 1 {
		t.Fatalf("%d connections, want 1", c)
	}
}

// A large queue is claimed in batches while the deliveries run: the
// runner does not go back to the queue after every delivery, and reads the
// next due time only when it has nothing left to do.
func TestRunClaimsInBatches(t *testing.T) {
	t.Parallel()
	p := startPeer(t, peerOpts{})
	e := newEnv(t)
	e.cfg.ClaimBatch = 64
	const n = 300
	queueDistinct(e, p, n)
	s := e.sender()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	testkit.WaitFor(t, 20*time.Second, "every message at the peer", func() bool { return len(p.received()) == n })
	testkit.WaitFor(t, 20*time.Second, "the runner to go to sleep", func() bool { c, _ := e.q.count("next"); return c > 0 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	wantEachOnce(t, p, n)
	claims, _ := e.q.count("claim")
	nexts, _ := e.q.count("next")
	// ceil((n+1)/64) claims: full ones, then one that finds the queue
	// empty; the next due time once, before sleeping.
	if claims > n/64+2 || nexts > 2 {
		t.Fatalf("%d deliveries took %d claims and %d next-time reads; want at most %d and 2", n, claims, nexts, n/64+2)
	}
}

// A delivery deferred while the runner sleeps wakes it to reconsider its
// sleep, so the retry is not held back until RescanFrequency.
func TestDeferralWakesSleepingRunner(t *testing.T) {
	t.Parallel()
	e, p, _ := mxEnv(t)
	p.failRcpt("joe@example.test", 451, smtp.EnhancedCode{4, 3, 0}, "Try later")
	e.cfg.RescanFrequency = 24 * time.Hour
	id := e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "joe@example.test"}, testMsg)
	s := e.sender()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	testkit.WaitFor(t, 20*time.Second, "the next due time read after the deferral", func() bool {
		_, deferred := e.q.count("defer")
		_, next := e.q.count("next")
		return deferred >= 0 && next > deferred
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if ent, ok := e.q.get(id); !ok || ent.Attempts != 1 || ent.InTransit {
		t.Fatalf("entry %+v (queued %v), want deferred once", ent, ok)
	}
}

// A large message is not held in memory while its job waits, yet it goes
// out byte for byte, and its copies to two recipients still share one
// transaction.
func TestBigMessageGroupedAndIntact(t *testing.T) {
	t.Parallel()
	p := startPeer(t, peerOpts{})
	e := reuseEnv(t)
	big := testMsg + strings.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n", 6000)
	other := strings.Replace(big, "Hello Joe.", "Hello Ann.", 1)
	a := e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "joe@" + p.Addr}, big)
	b := e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "ann@" + p.Addr}, big)
	c := e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "bob@" + p.Addr}, other)
	e.runOnce(t)
	for _, id := range []uint64{a, b, c} {
		if !e.q.delivered(id) {
			ent, _ := e.q.get(id)
			t.Fatalf("entry %d not delivered: %q", id, ent.LastError)
		}
	}
	got := p.received()
	if len(got) != 2 {
		t.Fatalf("peer received %d transactions, want 2 (the copies together, the other message alone)", len(got))
	}
	if string(got[0].Data) != big || strings.Join(got[0].Rcpts, ",") != "joe@127.0.0.1,ann@127.0.0.1" {
		t.Errorf("first transaction: %d bytes to %q", len(got[0].Data), got[0].Rcpts)
	}
	if string(got[1].Data) != other || strings.Join(got[1].Rcpts, ",") != "bob@127.0.0.1" {
		t.Errorf("second transaction: %d bytes to %q", len(got[1].Data), got[1].Rcpts)
	}
}
