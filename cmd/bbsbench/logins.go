package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// logins measures what a storm of failed logins costs in memory: -logins
// SMTP clients, each from its own loopback address (127.0.1.1,
// 127.0.1.2, ...), connect and say EHLO, then all send a wrong AUTH PLAIN
// password at the same moment. Every check holds a 19 MiB argon2id arena,
// so without a bound on concurrent checks the server's memory grows with
// the number of clients. It prints the server's resident size before, its
// peak (VmHWM) and its size a few seconds after; Linux only.
func (b *bench) logins(ctx context.Context, f *figure) {
	n := b.cfg.logins
	b.printf("== %d concurrent failed logins (SMTP AUTH PLAIN, one client address each)\n", n)
	s, ok := b.ehloSessions(ctx, f, n, 10)
	if !ok {
		return
	}
	defer s.close()
	pid, before, conns := s.pid, s.beforeKB/1024, s.conns
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	answers := map[int]int{}
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			token := base64.StdEncoding.EncodeToString([]byte("\x00" + benchUser + "\x00wrong-" + strconv.Itoa(i)))
			code, _, err := cmd(c, "AUTH PLAIN "+token)
			if err != nil {
				code = 0
			}
			mu.Lock()
			answers[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	peak, _ := procMiB(pid, "VmHWM")
	// The arenas are garbage once the checks end; give the server a few
	// seconds to hand the memory back.
	after := peak
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && ctx.Err() == nil; {
		time.Sleep(200 * time.Millisecond)
		var err error
		if after, err = procMiB(pid, "VmRSS"); err != nil || after < before+(peak-before)/4 {
			break
		}
	}
	b.printf("   %d answers in %.3fs (reply codes %v)\n", n, elapsed.Seconds(), answers)
	b.printf("   resident size: %d MiB before, peak %d MiB, %d MiB after\n\n", before, peak, after)
	f.note = fmt.Sprintf("peak RSS %d MiB (%d before, %d after)", peak, before, after)
}

// ehloRun is a server started for a memory figure, with sessions that have
// said EHLO to it.
type ehloRun struct {
	srv      *child
	pid      int
	beforeKB int // the server's resident size before the sessions opened
	conns    []*textproto.Conn
}

// ehloSessions starts bbsmail for n clients (and spare more connections),
// reads its resident size and opens n EHLO sessions, one loopback address
// each: the start of the idle and logins figures. When it reports false
// the figure is settled (failed, or skipped without /proc) and nothing is
// left open.
func (b *bench) ehloSessions(ctx context.Context, f *figure, n, spare int) (*ehloRun, bool) {
	t, srv, err := b.startBBS(ctx, serverOpts{maxClients: n + spare})
	if err != nil {
		b.fail(ctx, f, "starting bbsmail", err)
		return nil, false
	}
	s := &ehloRun{srv: srv, pid: srv.cmd.Process.Pid}
	if s.beforeKB, err = procKB(s.pid, "VmRSS"); err != nil {
		srv.stop(30 * time.Second)
		f.note = "no /proc: not measured"
		b.printf("   skipped: %v\n\n", err)
		return nil, false
	}
	s.conns, err = ehloMany(ctx, t.smtpAddr(), n)
	if err != nil {
		s.close()
		b.fail(ctx, f, "connecting", err)
		return nil, false
	}
	return s, true
}

// close ends the sessions, then the server.
func (s *ehloRun) close() {
	closeAll(s.conns)
	s.srv.stop(30 * time.Second)
}

// ehloMany opens n SMTP sessions that have said EHLO, each from its own
// loopback address (127.0.1.1, 127.0.1.2, ...). On an error it returns
// the sessions opened so far.
func ehloMany(ctx context.Context, addr string, n int) ([]*textproto.Conn, error) {
	conns := make([]*textproto.Conn, 0, n)
	for i := range n {
		c, err := ehloFrom(ctx, addr, fmt.Sprintf("127.0.%d.%d", 1+i/250, 1+i%250))
		if err != nil {
			return conns, fmt.Errorf("connection %d: %w", i+1, err)
		}
		conns = append(conns, c)
	}
	return conns, nil
}

func closeAll(conns []*textproto.Conn) {
	for _, c := range conns {
		c.Close()
	}
}

// ehloFrom connects to addr from the local address src and says EHLO.
func ehloFrom(ctx context.Context, addr, src string) (*textproto.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 30 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := textproto.NewConn(nc)
	if _, _, err := c.ReadResponse(220); err != nil {
		c.Close()
		return nil, fmt.Errorf("greeting from %s: %w", src, err)
	}
	if _, _, err := cmd(c, "EHLO bench.example"); err != nil {
		c.Close()
		return nil, fmt.Errorf("EHLO from %s: %w", src, err)
	}
	return c, nil
}

// cmd sends one command and reads its (possibly multi-line) reply.
func cmd(c *textproto.Conn, line string) (int, string, error) {
	if err := c.PrintfLine("%s", line); err != nil {
		return 0, "", err
	}
	return c.ReadResponse(0)
}

// procMiB reads a kB field of /proc/PID/status, in MiB.
func procMiB(pid int, field string) (int, error) {
	kb, err := procKB(pid, field)
	return kb / 1024, err
}

// procKB reads a kB field of /proc/PID/status.
func procKB(pid int, field string) (int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}
