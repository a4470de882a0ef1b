package main

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// drainLimit bounds the wait for a queue of n messages to drain: two
// minutes plus 50 ms a message, far beyond any sane rate.
func drainLimit(n int) time.Duration { return 2*time.Minute + time.Duration(n)*50*time.Millisecond }

// bbsOutbound queues -outbound messages with SendMail off, restarts the
// server with SendMail relaying to smtp-sink, and times the drain; fill
// gets the rate of queueing.
func (b *bench) bbsOutbound(ctx context.Context, f, fill *figure) {
	n := b.cfg.outbound
	if n == 0 {
		f.note = "-outbound 0"
		return
	}
	b.printf("== bbsmail: outbound, %d messages from a full queue to smtp-sink\n", n)
	if b.sink == "" {
		f.note = "no smtp-sink"
		b.printf("   skipped: smtp-sink not found (Debian package postfix)\n\n")
		return
	}
	if err := b.bbsDrain(ctx, n, f, fill, ""); err != nil {
		b.fail(ctx, f, "outbound run", err)
	}
	b.printf("\n")
}

// bbsDrain queues n messages and times their delivery into f; fill, when
// not nil, gets the rate of queueing them (where DKIM signing happens,
// with dkim "rsa" or "ed25519").
func (b *bench) bbsDrain(ctx context.Context, n int, f, fill *figure, dkim string) error {
	opts := serverOpts{maxClients: b.maxClients(), submission: true, sendConc: b.cfg.sendConc, perHost: b.cfg.sendPerHost, dkim: dkim}
	t, srv, err := b.startBBS(ctx, opts)
	if err != nil {
		return err
	}
	// Authenticated submission to a remote address is what queues mail
	// for SendMail; NO_SENDMAIL keeps it there.
	filled := runLoad(ctx, loadSpec{addr: t.subAddr(), clients: b.cfg.clients, messages: n, size: b.cfg.size,
		reuse: true, from: localRcpt, to: remoteRcpt, user: benchUser, pass: benchPass})
	if filled.accepted != n {
		srv.stop(30 * time.Second)
		return fmt.Errorf("queueing: %d of %d accepted (first error: %v)", filled.accepted, n, filled.firstErr)
	}
	q, err := t.queueLen(ctx)
	srv.stop(30 * time.Second)
	if err != nil {
		return err
	}
	if q != n {
		return fmt.Errorf("%d messages accepted on port 587 but the queue holds %d", n, q)
	}
	b.printf("   queued %d messages on port 587 in %.3fs (%.1f msgs/s, SendMail off)\n", n, filled.elapsed.Seconds(), filled.rate())
	if fill != nil {
		ms := summarize(filled.msgLat)
		*fill = figure{rate: filled.rate(), p50: ms.p50, p99: ms.p99}
	}

	sk, err := startSink(ctx, b.procs, b.sink)
	if err != nil {
		return err
	}
	defer sk.proc.stop(5 * time.Second)
	opts.sendmail, opts.relayPort = true, sk.port
	start := time.Now()
	srv, err = t.start(ctx, b.procs, opts)
	if err != nil {
		return err
	}
	defer srv.stop(30 * time.Second)
	last, err := sk.waitMessages(ctx, n, drainLimit(n))
	if err != nil {
		return fmt.Errorf("%w\n%s", err, t.logTail())
	}
	// Polling starts only now, so it cannot slow the drain down.
	err = waitUntil(ctx, time.Minute, "the queue to empty", func() (bool, error) {
		q, err := t.queueLen(ctx)
		return q == 0, err
	})
	if err != nil {
		return err
	}
	b.reportDrain(f, n, start, last, time.Now(), "from `bbsmail serve` starting")
	return nil
}

// reportDrain prints a drain and sets its figure from the time until the
// queue was seen empty (the conservative end).
func (b *bench) reportDrain(f *figure, n int, start, last, empty time.Time, from string) {
	toLast := last.Sub(start)
	toEmpty := empty.Sub(start)
	b.printf("   smtp-sink had all %d messages %.3fs %s: %.1f msgs/s\n", n, toLast.Seconds(), from, float64(n)/toLast.Seconds())
	b.printf("   queue seen empty after %.3fs: %.1f msgs/s\n", toEmpty.Seconds(), float64(n)/toEmpty.Seconds())
	f.rate = float64(n) / toEmpty.Seconds()
}

// postfixOutbound fills the private instance's deferred queue with
// -outbound messages, restarts it with delivery allowed, and times from
// `postqueue -f` until the queue is empty.
func (b *bench) postfixOutbound(ctx context.Context, pf *postfixInst, sk *sink, f *figure) {
	n := b.cfg.outbound
	if n == 0 {
		f.note = "-outbound 0"
		return
	}
	b.printf("== Postfix: outbound, %d messages from a full queue to smtp-sink\n", n)
	if sk == nil {
		f.note = "no smtp-sink"
		b.printf("   skipped: smtp-sink not found\n\n")
		return
	}
	if err := b.postfixDrain(ctx, pf, sk, n, f); err != nil {
		b.fail(ctx, f, "outbound run", err)
	}
	pf.stop()
	b.printf("\n")
}

func (b *bench) postfixDrain(ctx context.Context, pf *postfixInst, sk *sink, n int, f *figure) error {
	if err := pf.start(ctx, b.procs, true); err != nil {
		return err
	}
	if err := pf.clear(ctx); err != nil {
		return err
	}
	fill := runLoad(ctx, loadSpec{addr: pf.addr(), clients: b.cfg.clients, messages: n, size: b.cfg.size,
		reuse: true, from: extSender, to: remoteRcpt})
	if fill.accepted != n {
		return fmt.Errorf("queueing: %d of %d accepted (first error: %v)", fill.accepted, n, fill.firstErr)
	}
	if err := pf.waitQueued(ctx, n, 2*time.Minute); err != nil {
		return err
	}
	pf.stop()
	b.printf("   queued %d messages in %.3fs (%.1f msgs/s, defer_transports = smtp)\n", n, fill.elapsed.Seconds(), fill.rate())
	if err := pf.start(ctx, b.procs, false); err != nil {
		return err
	}
	before := sk.out.messages()
	start := time.Now()
	if err := pf.flush(ctx); err != nil {
		return err
	}
	last, err := sk.waitMessages(ctx, before+n, drainLimit(n))
	if err != nil {
		return fmt.Errorf("%w\n%s", err, pf.logTail())
	}
	if err := pf.waitEmpty(ctx, time.Minute); err != nil {
		return err
	}
	b.reportDrain(f, n, start, last, time.Now(), "after `postqueue -f`")
	if before != 0 {
		return errors.New("smtp-sink received mail before the outbound run began")
	}
	return nil
}
