package main

import (
	"context"
	"net"
	"strconv"
	"time"
)

// baselineRows compare bbsmail's smtp-source rate (a new connection per
// message) with two more servers fed the same way: smtp-sink, which stores
// nothing and so is the ceiling of this machine, and Postfix configured
// with the discard transport, the faster of the two Postfix baselines (a
// message leaves the queue once it is accepted; peer-name lookups on).
type baselineRows struct {
	sink, discard *row
}

func (b *bench) addBaselineRows() baselineRows {
	return baselineRows{
		sink:    b.addRow("inbound, smtp-source vs smtp-sink"),
		discard: b.addRow("inbound, smtp-source vs Postfix discard"),
	}
}

// copySource gives both rows bbsmail's smtp-source figure.
func (r baselineRows) copySource(source *row) {
	r.sink.bbs, r.discard.bbs = source.bbs, source.bbs
}

// sinkRun times smtp-source against smtp-sink, which answers every
// command and keeps nothing.
func (b *bench) sinkRun(ctx context.Context, f *figure) {
	if b.source == "" || b.sink == "" {
		f.note = "no smtp-sink"
		return
	}
	b.printf("== smtp-sink (stores nothing): inbound, smtp-source\n")
	sk, err := startSink(ctx, b.procs, b.sink)
	if err != nil {
		b.fail(ctx, f, "smtp-sink", err)
		return
	}
	defer sk.proc.stop(5 * time.Second)
	n := b.sourceRun(ctx, net.JoinHostPort("127.0.0.1", strconv.Itoa(sk.port)), remoteRcpt, false, f)
	if _, err := sk.waitMessages(ctx, n, time.Minute); err != nil {
		b.fail(ctx, f, "smtp-sink", err)
	}
	b.printf("\n")
}

// discardRun restarts the private Postfix with the discard transport and
// times smtp-source against it, until its queue is empty again.
func (b *bench) discardRun(ctx context.Context, pf *postfixInst, f *figure) {
	if b.source == "" {
		f.note = "no smtp-source"
		return
	}
	b.printf("== Postfix, discard transport, peer-name lookups on: inbound, smtp-source\n")
	pf.discard = true
	defer func() { pf.discard = false }()
	if err := pf.start(ctx, b.procs, false); err != nil {
		b.fail(ctx, f, "starting Postfix", err)
		return
	}
	defer pf.stop()
	if err := pf.clear(ctx); err != nil {
		b.fail(ctx, f, "emptying Postfix's queue", err)
		return
	}
	b.sourceRun(ctx, pf.addr(), remoteRcpt, false, f)
	if err := pf.waitEmpty(ctx, 2*time.Minute); err != nil {
		b.fail(ctx, f, "Postfix's queue", err)
	}
	b.printf("\n")
}
