package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// pop3BigRounds is how many times the login + STAT run logs in.
const pop3BigRounds = 5

// pop3Big fills one mailbox with -pop3-big messages over SMTP and times
// what a user of a mailbox that size waits for: connect, USER, PASS (the
// password check and the listing of the mailbox) and STAT. The latency
// cells of its row are those of the whole exchange, over pop3BigRounds
// logins; the rate cell is the fill's messages per second.
func (b *bench) pop3Big(ctx context.Context, f *figure) {
	n := b.cfg.pop3Big
	b.printf("== bbsmail: login + STAT on a mailbox of %d messages\n", n)
	t, srv, err := b.startBBS(ctx, serverOpts{maxClients: b.maxClients(), pop3: true})
	if err != nil {
		b.fail(ctx, f, "starting bbsmail", err)
		return
	}
	defer srv.stop(30 * time.Second)
	res := runLoad(ctx, loadSpec{addr: t.smtpAddr(), clients: b.cfg.clients, messages: n, size: b.cfg.size,
		reuse: true, from: extSender, to: benchUser + "@bbs.test"})
	if res.accepted != n {
		b.fail(ctx, f, "filling the mailbox", fmt.Errorf("%d of %d accepted: %v", res.accepted, n, res.firstErr))
		return
	}
	b.printf("   filled: %d messages in %.1fs (%.0f msgs/s)\n", n, res.elapsed.Seconds(), float64(n)/res.elapsed.Seconds())
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(t.pop3))
	var lat []time.Duration
	for range pop3BigRounds {
		d, err := loginStat(addr, benchUser, benchPass, n)
		if err != nil {
			b.fail(ctx, f, "login + STAT", err)
			return
		}
		lat = append(lat, d)
	}
	s := summarize(lat)
	b.printf("   connect, USER, PASS, STAT: %s\n\n", s)
	*f = figure{rate: float64(n) / res.elapsed.Seconds(), p50: s.p50, p99: s.p99}
}

// loginStat connects, logs in, asks STAT, checks that it counts want
// messages, and quits; it returns the time from connecting to the STAT
// reply.
func loginStat(addr, user, pass string, want int) (time.Duration, error) {
	t0 := time.Now()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Minute))
	p := &pop3Conn{c: c, r: bufio.NewReaderSize(c, 64<<10)}
	if _, err := p.status(); err != nil {
		return 0, fmt.Errorf("greeting: %w", err)
	}
	if err := p.cmd("USER " + user); err != nil {
		return 0, err
	}
	if err := p.cmd("PASS " + pass); err != nil {
		return 0, err
	}
	if _, err := p.c.Write([]byte("STAT\r\n")); err != nil {
		return 0, err
	}
	line, err := p.status()
	if err != nil {
		return 0, fmt.Errorf("STAT: %w", err)
	}
	d := time.Since(t0)
	if f := strings.Fields(string(line)); len(f) < 2 || f[1] != strconv.Itoa(want) {
		return 0, fmt.Errorf("STAT said %q, want %d messages", strings.TrimSpace(string(line)), want)
	}
	return d, p.cmd("QUIT")
}
