package smtpd_test

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/internal/testkit"
	"github.com/bbsmail/bbsmail/smtpd"
)

func ehlo(c *client) { c.cmd("EHLO client.example", "250 HELP") }

// Bytes a client pipelines behind STARTTLS must not be executed inside the
// TLS session (the STARTTLS command injection attack).
func TestStartTLSDiscardsPipelinedCommands(t *testing.T) {
	t.Parallel()
	ts := startServer(t, smtpd.MTA, nil)
	c := ts.dial(t)
	c.expect("220 ")
	ehlo(c)
	c.send("STARTTLS\r\nMAIL FROM:<injected@evil.example>\r\nRCPT TO:<sysop@bbs.example>\r\n")
	c.expect("220 2.0.0 Ready to start TLS")
	c.startTLS(ts.clientTLS)
	// Were the injected MAIL/RCPT run, RCPT would pass and DATA get 354.
	c.cmd("EHLO client.example", "250 HELP")
	c.cmd("DATA", "503 5.5.1")
	c.cmd("QUIT", "221 ")
	testkit.WaitFor(t, 10*time.Second, "discard logged", func() bool { return strings.Contains(ts.log.String(), "discarded") })
}

// A client that says STARTTLS and then doesn't speak TLS is disconnected.
func TestStartTLSHandshakeFailureCloses(t *testing.T) {
	t.Parallel()
	ts := startServer(t, smtpd.MTA, nil)
	c := ts.dial(t)
	c.expect("220 ")
	c.cmd("STARTTLS", "220 2.0.0")
	c.send("this is not a TLS ClientHello\r\n\r\n")
	c.expectClosed()
}

func TestMaxClients(t *testing.T) {
	t.Parallel()
	ts := startServer(t, smtpd.MTA, func(c *smtpd.Config) { c.MaxClients = 2 })
	a, b := ts.dial(t), ts.dial(t)
	a.expect("220 ")
	b.expect("220 ")
	third := ts.dial(t)
	third.expect("421 4.3.2 System Error: Maximum active clients reached, try again later")
	third.expectClosed()
	// A freed slot lets the next client in.
	a.cmd("QUIT", "221 ")
	a.expectClosed()
	testkit.WaitFor(t, 10*time.Second, "a free slot", func() bool {
		c := ts.dial(t)
		line, _ := c.readLine()
		return strings.HasPrefix(line, "220 ")
	})
}

func TestMaxConnsPerIP(t *testing.T) {
	t.Parallel()
	ts := startServer(t, smtpd.MTA, func(c *smtpd.Config) { c.MaxConnsPerIP = 1 })
	a := ts.dial(t)
	a.expect("220 ")
	b := ts.dial(t)
	b.expect("421 4.7.0 System Error: Maximum connections exceeded, try again later")
	b.expectClosed()
}

func TestMaxConnsPerIPExempt(t *testing.T) {
	t.Parallel()
	ts := startServer(t, smtpd.MTA, func(c *smtpd.Config) {
		c.MaxConnsPerIP = 1
		c.IPFilterExempt = matchIP("127.0.0.1")
	})
	a, b := ts.dial(t), ts.dial(t)
	a.expect("220 ")
	b.expect("220 ")
}

func TestIdleTimeout(t *testing.T) {
	t.Parallel()
	ts := startServer(t, smtpd.MTA, func(c *smtpd.Config) { c.MaxInactivity = 50 * time.Millisecond })
	c := ts.dial(t)
	c.expect("220 ")
	c.expect("421 4.4.2 bbs.example Idle timeout")
	c.expectClosed()
}

// MaxInactivity applies per line of message text, not to the whole body:
// a body trickled slower than the limit in total still goes through.
func TestIdleTimeoutPerDataLine(t *testing.T) {
	t.Parallel()
	// Lines come every idle/20; the limit is wide enough that a loaded
	// machine stalling the client for a moment does not look idle.
	const idle = 1500 * time.Millisecond
	ts := startServer(t, smtpd.MTA, func(c *smtpd.Config) { c.MaxInactivity = idle })
	c := ts.dial(t)
	c.expect("220 ")
	c.cmd("HELO client.example", "250 ")
	c.cmd("MAIL FROM:<joe@remote.example>", "250 ")
	c.cmd("RCPT TO:<sysop@bbs.example>", "250 ")
	c.cmd("DATA", "354 ")
	start := time.Now()
	c.send("From: joe@remote.example\r\n\r\n")
	for time.Since(start) < 2*idle {
		c.send("line\r\n")
		time.Sleep(idle / 20) // pacing the client, not asserting timing
	}
	c.send(".\r\n")
	c.expect("250 2.0.0 OK")
}

// A client that trickles one line a byte at a time, each byte well within
// MaxInactivity, is still cut off: the limit covers the whole line.
func TestIdleTimeoutTrickle(t *testing.T) {
	t.Parallel()
	const idle = 300 * time.Millisecond
	ts := startServer(t, smtpd.MTA, func(c *smtpd.Config) { c.MaxInactivity = idle })
	c := ts.dial(t)
	c.expect("220 ")
	start := time.Now()
	cutOff := false
	for !cutOff && time.Since(start) < 20*idle { // far longer than the limit
		_, err := c.conn.Write([]byte("N"))
		cutOff = err != nil  // the server has closed the connection
		time.Sleep(idle / 4) // pacing the client, not asserting timing
	}
	if !cutOff {
		t.Fatal("a client trickling one byte at a time kept its session open")
	}
}

// Shutdown tells idle sessions when its deadline passes.
func TestShutdownIdleSession(t *testing.T) {
	t.Parallel()
	ts := startServer(t, smtpd.MTA, nil)
	c := ts.dial(t)
	c.expect("220 ")
	c.cmd("NOOP", "250 ")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); err != context.DeadlineExceeded {
		t.Fatalf("Shutdown = %v, want deadline exceeded", err)
	}
	c.expect("421 4.3.2 Service shutting down")
	c.expectClosed()
	if _, err := net.Dial("tcp", ts.addr); err == nil {
		t.Fatal("still accepting after Shutdown")
	}
}

// A panic while serving one client answers it with 421 and leaves other
// sessions running.
func TestPanicIsolated(t *testing.T) {
	t.Parallel()
	ts := startServer(t, smtpd.MTA, nil)
	other := ts.dial(t)
	other.expect("220 ")
	c := ts.dial(t)
	c.expect("220 ")
	c.cmd("HELO client.example", "250 ")
	c.cmd("MAIL FROM:<joe@remote.example>", "250 ")
	c.cmd("RCPT TO:<panic@bbs.example>", "421 4.3.0")
	c.expectClosed()
	other.cmd("NOOP", "250 2.0.0 OK")
	if !strings.Contains(ts.log.String(), "resolver bug") {
		t.Error("panic not logged")
	}
}

func cramResponse(user, secret, challengeB64 string) string {
	ch, _ := base64.StdEncoding.DecodeString(challengeB64)
	m := hmac.New(md5.New, []byte(secret))
	m.Write(ch)
	return base64.StdEncoding.EncodeToString([]byte(user + " " + hex.EncodeToString(m.Sum(nil))))
}

// CRAM-MD5 accepts a digest keyed with the password as stored or
// lower-cased (Synchronet's way), and a wrong one ends the session.
func TestAuthCramMD5(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, secret, want string
	}{
		{"stored", "Secret1", "235 2.7.0"},
		{"lowercased", "secret1", "235 2.7.0"},
		{"wrong", "Secret2", "535 5.7.8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, smtpd.MTA, func(c *smtpd.Config) {
				c.Loopback = func(net.IP) bool { return false }
				c.TLS = nil
			})
			c := ts.dial(t)
			c.expect("220 ")
			ehlo(c)
			line := c.cmd("AUTH CRAM-MD5", "334 ")
			ch, _ := base64.StdEncoding.DecodeString(line[4:])
			if !strings.HasPrefix(string(ch), "<") || !strings.HasSuffix(string(ch), "@bbs.example>") {
				t.Fatalf("challenge %q", ch)
			}
			c.cmd(cramResponse("sysop", tc.secret, line[4:]), tc.want)
			if tc.want[0] == '5' {
				c.expectClosed()
				return
			}
			c.cmd("MAIL FROM:<sysop@bbs.example>", "250 ")
			c.cmd("RCPT TO:<x@elsewhere.example>", "550 5.7.1 Relay not allowed.")
		})
	}
}

// LoginAttemptDelay holds the 535 back; the session ends after it.
func TestAuthFailureDelay(t *testing.T) {
	t.Parallel()
	const delay = 100 * time.Millisecond
	ts := startServer(t, smtpd.MTA, func(c *smtpd.Config) { c.LoginAttemptDelay = delay })
	c := ts.dial(t)
	c.expect("220 ")
	c.cmd("AUTH PLAIN "+base64.StdEncoding.EncodeToString([]byte("\x00sysop\x00nope")), "535 5.7.8")
	c.expectClosed()
}

// SetConfig applies to new sessions; a running one keeps its config.
func TestSetConfig(t *testing.T) {
	t.Parallel()
	ts := startServer(t, smtpd.MTA, nil)
	old := ts.dial(t)
	old.expect("220 bbs.example ")
	ts.srv.SetConfig(smtpd.Config{HostName: "new.example", Version: "2"})
	c := ts.dial(t)
	c.expect("220 new.example bbsmail SMTP Server 2 Ready")
	old.cmd("HELO x", "250 bbs.example")
}

// Serve refuses implicit TLS without a certificate.
func TestServeTLSNeedsConfig(t *testing.T) {
	t.Parallel()
	srv := smtpd.New(smtpd.Config{}, smtpd.Deps{Resolver: fakeResolver{}, Maildrop: &fakeDrop{}})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := srv.Serve(l, smtpd.SubmissionTLS); err == nil {
		t.Fatal("Serve without TLS config succeeded")
	}
}

// After STARTTLS and QUIT the server ends the TLS session properly with a
// close_notify alert (RFC 8446 §6.1): OpenSSL reports "unexpected eof"
// and fails otherwise.
func TestStartTLSCloseNotify(t *testing.T) {
	t.Parallel()
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not on PATH; the close_notify test needs it")
	}
	ts := startServer(t, smtpd.MTA, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, openssl, "s_client", "-ign_eof", "-starttls", "smtp", "-connect", ts.addr, "-CAfile", writeCAFile(t, ts))
	cmd.Stdin = strings.NewReader("EHLO client.example\nQUIT\n")
	out, err := cmd.CombinedOutput()
	if !strings.Contains(string(out), "221 2.0.0") {
		t.Fatalf("no reply to QUIT inside TLS:\n%s", out)
	}
	if err != nil || strings.Contains(string(out), "unexpected eof") {
		t.Fatalf("TLS session ended without close_notify (%v):\n%s", err, out)
	}
}
