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
	s, ok := b.ehloSessions(ctx, f, n, 100)
	if !ok {
		return
	}
	defer s.close()
	pid, before := s.pid, s.beforeKB
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
