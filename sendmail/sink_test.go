package sendmail_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/internal/testkit"
	"github.com/bbsmail/bbsmail/sendmail"
)

const smtpSink = "/usr/sbin/smtp-sink"

// startSink runs Postfix's smtp-sink on 127.0.0.2 with extra options and
// returns its port and dump directory.
func startSink(t *testing.T, opts ...string) (port int, dumpDir string) {
	t.Helper()
	if _, err := os.Stat(smtpSink); err != nil {
		t.Skip("smtp-sink not installed (install the Debian package postfix)")
	}
	dumpDir = t.TempDir()
	args := []string{"-d", filepath.Join(dumpDir, "msg.")}
	if os.Geteuid() == 0 {
		// smtp-sink refuses to run as root; the dump directory must be
		// reachable for the unprivileged user.
		args = append(args, "-u", "nobody")
		for _, d := range []string{filepath.Dir(dumpDir), dumpDir} {
			if err := os.Chmod(d, 0o777); err != nil {
				t.Fatal(err)
			}
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, smtpSink, append(append(args, opts...), addr, "10")...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	testkit.WaitFor(t, 20*time.Second, "smtp-sink listening", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	_, p, _ := net.SplitHostPort(addr)
	return atoi(t, p), dumpDir
}

func sinkEnv(t *testing.T, opts ...string) (*env, string) {
	t.Helper()
	port, dir := startSink(t, opts...)
	d := startDNS(t, "mail.zone")
	e := newEnv(t)
	e.cfg.DNSServer = d.Addr
	e.cfg.MXPort = port
	return e, dir
}

// smtp-sink (which pipelines) receives one transaction for two recipients
// with the BODY parameter and the message dot-stuffed correctly.
func TestSmtpSinkDelivers(t *testing.T) {
	t.Parallel()
	e, dir := sinkEnv(t)
	a := e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "joe@example.test"}, testMsg)
	b := e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "ann@example.test"}, testMsg)
	e.runOnce(t)
	if !e.q.delivered(a) || !e.q.delivered(b) {
		t.Fatal("not delivered")
	}
	var dump string
	testkit.WaitFor(t, 20*time.Second, "the dump file", func() bool {
		files, _ := filepath.Glob(filepath.Join(dir, "msg.*"))
		if len(files) != 1 {
			return false
		}
		data, _ := os.ReadFile(files[0])
		dump = string(data)
		return strings.Contains(dump, "Bye.")
	})
	for _, want := range []string{
		"X-Mail-Args: <sysop@bbs.example.org> BODY=8BITMIME\n",
		"X-Rcpt-Args: <joe@example.test>\n",
		"X-Rcpt-Args: <ann@example.test>\n",
		"X-Helo-Args: bbs.example.org\n",
		strings.ReplaceAll(testMsg, "\r\n", "\n"),
	} {
		if !strings.Contains(dump, want) {
			t.Errorf("dump lacks %q:\n%s", want, dump)
		}
	}
}

// smtp-sink's injected failures: a soft RCPT reject defers, a hard one
// bounces, and a 421 at MAIL defers.
func TestSmtpSinkFailures(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		opts    []string
		bounced bool
		reply   string
	}{
		{"soft RCPT", []string{"-r", "RCPT"}, false, "450 4.3.0"},
		{"hard RCPT", []string{"-f", "RCPT"}, true, "500 5.3.0"},
		{"421 at MAIL", []string{"-Q", "MAIL"}, false, "421"},
		{"slow RCPT", []string{"-W", "RCPT:1", "-r", "DATA"}, false, "450"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e, _ := sinkEnv(t, c.opts...)
			id := e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "joe@example.test", LocalSender: 1}, testMsg)
			e.runOnce(t)
			if c.bounced {
				why, ok := e.q.failedWith(id)
				if !ok || e.drop.count() != 1 || !strings.Contains(why, c.reply) {
					t.Fatalf("want a bounce with %q; failed=%v %q, %d bounces", c.reply, ok, why, e.drop.count())
				}
				return
			}
			ent, ok := e.q.get(id)
			if !ok || ent.InTransit || ent.Attempts != 1 || !strings.Contains(ent.LastError, c.reply) {
				t.Fatalf("want deferred with %q; got %+v present=%v", c.reply, ent, ok)
			}
			if want := e.clock.Now().Add(time.Minute); !ent.NextAttempt.Equal(want) {
				t.Errorf("next attempt %v, want %v", ent.NextAttempt, want)
			}
		})
	}
}
