package main

import (
	"context"
	"fmt"
	"time"
)

// idle measures what an idle SMTP connection costs the server in memory:
// -idle clients, spread over loopback addresses 127.0.1.1 and up, connect
// and say EHLO, then wait. It prints the growth of the server's resident
// size divided by the number of connections. Linux only.
func (b *bench) idle(ctx context.Context, f *figure) {
	n := b.cfg.idle
	b.printf("== %d idle SMTP connections, memory\n", n)
	t, srv, err := b.startBBS(ctx, serverOpts{maxClients: n + 100})
	if err != nil {
		b.fail(ctx, f, "starting bbsmail", err)
		return
	}
	defer srv.stop(30 * time.Second)
	pid := srv.cmd.Process.Pid
	before, err := procKB(pid, "VmRSS")
	if err != nil {
		f.note = "no /proc: not measured"
		b.printf("   skipped: %v\n\n", err)
		return
	}
	conns, err := ehloMany(ctx, t.smtpAddr(), n)
	defer closeAll(conns)
	if err != nil {
		b.fail(ctx, f, "connecting", err)
		return
	}
	// Every session has answered EHLO; let the server's collector settle
	// before reading its size.
	time.Sleep(2 * time.Second)
	after, err := procKB(pid, "VmRSS")
	if err != nil {
		b.fail(ctx, f, "reading the resident size", err)
		return
	}
	per := float64(after-before) / float64(n)
	b.printf("   resident size: %d KiB before, %d KiB with %d connections: %.1f KiB per connection\n\n", before, after, n, per)
	f.note = fmt.Sprintf("%.1f KiB each", per)
}
