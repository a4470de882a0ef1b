package test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// settingsPOP3RetrQuit logs alias in over POP3, retrieves message 1 and
// quits.
func settingsPOP3RetrQuit(t *testing.T, b *bbs, alias, password string) {
	t.Helper()
	c := dial(t, b.addr(b.ports.POP3))
	c.expect("+OK ")
	c.send("USER " + alias)
	c.expect("+OK ")
	c.send("PASS " + password)
	c.expect("+OK ")
	c.send("RETR 1")
	c.expect("+OK ")
	for {
		if l := c.reply(); l == "." {
			break
		}
	}
	c.send("QUIT")
	c.expect("+OK ")
}

// main.ini "Kill Read E-mail": mail arrives flagged kill-read and is gone
// once a POP3 client has retrieved it, without a DELE; without the
// setting, retrieved mail stays.
func TestSettingsKillReadMail(t *testing.T) {
	t.Parallel()
	for _, on := range []bool{true, false} {
		b := newBBS(t)
		if on {
			b.routingSysMisc(1<<27, 0)
		} else {
			b.routingSysMisc(0, 1<<27)
		}
		b.start()
		b.addUser("Reader", "Kill-Read-7")
		coreDeliver(t, b, "joe@example.org", "reader@bbs.test", "read me once")
		rows := coreMailList(b, "Reader")
		if len(rows) != 1 || strings.Contains(rows[0], "kill-read") != on {
			t.Fatalf("Kill Read E-mail %t: mail list:\n%s", on, strings.Join(rows, "\n"))
		}
		settingsPOP3RetrQuit(t, b, "Reader", "Kill-Read-7")
		if rows := coreMailList(b, "Reader"); (len(rows) == 0) != on {
			t.Fatalf("Kill Read E-mail %t: after RETR and QUIT the mailbox holds:\n%s", on, strings.Join(rows, "\n"))
		}
	}
}

// settingsDialFrom dials addr from the local address src.
func settingsDialFrom(t *testing.T, src, addr string) *conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s from %s: %v", addr, src, err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	return &conn{t: t, c: c, r: bufio.NewReader(c)}
}

// RateLimitFilterThreshold: a client over MaxRequestsPerPeriod is
// disconnected and written to ip.can with Synchronet's reason and the
// duration. (The servers never apply ip.can to loopback clients, so the
// refusal that follows is the unit tests' and filters' business.)
func TestSettingsRateLimitFilter(t *testing.T) {
	t.Parallel()
	b := guardBBS(t)
	b.mail["MaxRequestsPerPeriod"] = "3"
	b.mail["RateLimitFilterThreshold"] = "1"
	b.mail["RateLimitFilterDuration"] = "1h"
	b.start()
	c := settingsDialFrom(t, guardStranger, b.addr(b.ports.SMTP))
	c.expect("220 ")
	for {
		c.send("NOOP")
		if r := c.reply(); strings.HasPrefix(r, "421 ") {
			break
		}
	}
	coreWaitLog(b, "SMTP !BLOCKING IP ADDRESS: 127.0.0.2 in ip.can")
	ipcan, err := os.ReadFile(filepath.Join(b.root, "text", "ip.can"))
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`(?m)^127\.0\.0\.2\tt=\d{8}T\d{6}[-+]\d{4}\tp=SMTP\tr=1 rate-limit violations\te=\d{8}T\d{6}[-+]\d{4}$`)
	if !line.Match(ipcan) {
		t.Fatalf("ip.can:\n%s", ipcan)
	}
}

// The pause semaphore: while ctrl/pause exists no new connection is
// accepted (the client waits in the backlog, ungreeted); once it is
// removed, the waiting client is greeted.
func TestSettingsPauseSemaphore(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.glob["SemFileCheckFrequency"] = "1"
	b.start()
	pause := filepath.Join(b.ctrl, "pause.mail")
	coreWrite(t, pause, "")
	coreWaitLog(b, "Pause semaphore file ("+pause+") detected")
	c := dial(t, b.addr(b.ports.SMTP))
	if err := os.Remove(pause); err != nil {
		t.Fatal(err)
	}
	c.expect("220 ")
	coreWaitLog(b, "SMTP connection accepted")
	log := b.log.String()
	resumed := strings.Index(log, "accepting connections again")
	accepted := strings.Index(log, "SMTP connection accepted")
	if resumed < 0 || accepted < resumed {
		t.Fatalf("the connection was accepted during the pause:\n%s", log)
	}
}

// settingsRSAOnlyHandshake connects to the SMTPS port as a client that
// knows only RSA certificates (TLS 1.2, ECDHE-RSA suites) and returns the
// server certificate's public key algorithm.
func settingsRSAOnlyHandshake(t *testing.T, b *bbs) x509.PublicKeyAlgorithm {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", b.addr(b.ports.SMTPS), &tls.Config{
		InsecureSkipVerify: true, // self-signed on purpose
		MaxVersion:         tls.VersionTLS12,
		CipherSuites:       []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256},
	})
	if err != nil {
		t.Fatalf("RSA-only TLS client: %v", err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].PublicKeyAlgorithm
}

// The generated certificate is RSA, so clients that know nothing else
// connect.
func TestSettingsSelfSignedIsRSA(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.start()
	if alg := settingsRSAOnlyHandshake(t, b); alg != x509.RSA {
		t.Fatalf("certificate key: %v, want RSA", alg)
	}
}

// Synchronet's ctrl/ssl.cert is a cryptlib keyset: check and serve say so
// (which file, what format, what to do) and TLS stays on with a pair of
// bbsmail's own; the sysop's file is left alone.
func TestSettingsCryptlibCertificate(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	keyset := []byte("\x30\x82\x05\x10\x06\x0a\x2a\x86\x48\x86\xf7\x0d\x01\x0f\x03\x01cryptlib keyset")
	coreWrite(t, filepath.Join(b.ctrl, "ssl.cert"), string(keyset))
	b.writeIni()
	_, stderr, code := b.run("", "check")
	if code != 0 || !strings.Contains(stderr, "warning: TLS: "+filepath.Join(b.ctrl, "ssl.cert")+" is not PEM") ||
		!strings.Contains(stderr, "fullchain.pem") || !strings.Contains(stderr, "bbsmail.cert") {
		t.Fatalf("check (exit %d):\n%s", code, stderr)
	}
	b.start()
	coreWaitLog(b, "is not PEM (Synchronet writes a cryptlib keyset there")
	if alg := settingsRSAOnlyHandshake(t, b); alg != x509.RSA {
		t.Fatalf("certificate key: %v, want RSA", alg)
	}
	if !fileExists(filepath.Join(b.ctrl, "bbsmail.cert")) || !fileExists(filepath.Join(b.ctrl, "bbsmail.key")) {
		t.Fatal("no ctrl/bbsmail.cert and bbsmail.key")
	}
	if got, _ := os.ReadFile(filepath.Join(b.ctrl, "ssl.cert")); string(got) != string(keyset) {
		t.Fatal("ctrl/ssl.cert was changed")
	}
}

// TLSErrorLevel: a client that speaks plain text to POP3S fails the
// handshake; the failure is logged at TLSErrorLevel (Notice here, where
// the failure itself would be a Warning), in the one wording every server
// uses.
func TestSettingsTLSErrorLevel(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.glob["TLSErrorLevel"] = "Notice"
	b.start()
	c := dial(t, b.addr(b.ports.POP3S))
	c.send("USER plain-text-client")
	if !c.closed() {
		t.Fatal("POP3S kept a connection that failed the handshake")
	}
	coreWaitLog(b, "!TLS handshake failed: ")
	if !regexp.MustCompile(`Notice +POP3 \[127\.0\.0\.1\] !TLS handshake failed: tls: `).MatchString(b.log.String()) {
		t.Fatalf("handshake failure not logged at Notice:\n%s", b.log.String())
	}
	smtps := dial(t, b.addr(b.ports.SMTPS))
	smtps.send("EHLO plain-text-client")
	if !smtps.closed() {
		t.Fatal("SMTPS kept a connection that failed the handshake")
	}
	coreWaitLog(b, "SMTP [127.0.0.1] !TLS handshake failed: ")
	if !regexp.MustCompile(`Notice +SMTP \[127\.0\.0\.1\] !TLS handshake failed: .*tls: `).MatchString(b.log.String()) {
		t.Fatalf("SMTPS handshake failure not logged at Notice:\n%s", b.log.String())
	}
}

// The SMTP log shows a probe for unknown users at Notice and the end of
// each session at Info, as POP3 does.
func TestSettingsSMTPLogLines(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.start()
	c := dial(t, b.addr(b.ports.SMTP))
	c.expect("220 ")
	c.send("EHLO prober.example")
	c.expect("250 ")
	c.send("MAIL FROM:<>")
	c.expect("250 ")
	c.send("RCPT TO:<nobody-here@bbs.test>")
	c.expect("550 ")
	c.send("QUIT")
	c.expect("221 ")
	coreWaitLog(b, "session ended")
	log := b.log.String()
	for _, re := range []string{
		`Notice +SMTP .*\[127\.0\.0\.1\] !UNKNOWN USER-RECIPIENT: <nobody-here@bbs\.test>`,
		`Info +SMTP .*\[127\.0\.0\.1\] session ended`,
	} {
		if !regexp.MustCompile(re).MatchString(log) {
			t.Errorf("log lacks %s", re)
		}
	}
}

// DEBUG_RX_BODY keeps each received message in temp/ as its .msg file;
// without it nothing stays behind.
func TestSettingsDebugRxBodyKeepsMessage(t *testing.T) {
	t.Parallel()
	for _, on := range []bool{true, false} {
		b := newBBS(t)
		if on {
			b.mail["Options"] = "ALLOW_POP3 | USE_SUBMISSION_PORT | TLS_SUBMISSION | TLS_POP3 | NO_HOST_LOOKUP | NO_SENDMAIL | DEBUG_RX_BODY"
		}
		b.start()
		b.addUser("Reader", "Rx-Body-3")
		coreDeliver(t, b, "joe@example.org", "reader@bbs.test", "kept for the sysop")
		kept, _ := filepath.Glob(filepath.Join(b.root, "temp", "SBBS_SMTP.*.msg"))
		if !on {
			if len(kept) != 0 {
				t.Fatalf("without DEBUG_RX_BODY temp/ holds %v", kept)
			}
			continue
		}
		if len(kept) != 1 {
			t.Fatalf("DEBUG_RX_BODY: temp/ holds %v, want one .msg", kept)
		}
		if data, _ := os.ReadFile(kept[0]); !strings.Contains(string(data), "Subject: kept for the sysop") {
			t.Fatalf("%s:\n%s", kept[0], data)
		}
	}
}

// A recycle applies the SendMail settings: mail queued while NO_SENDMAIL
// is set leaves once an edit of sbbs.ini clears it, without a restart.
func TestSettingsRecycleAppliesSendMail(t *testing.T) {
	t.Parallel()
	peer := startOutboundPeer(t, "", "")
	dns := startOutboundDNS(t, outboundMXRecords("remote.test"))
	b := outboundBBS(t, dns, peer.port)
	b.mail["Options"] = outboundOptions + " | NO_SENDMAIL"
	b.glob["SemFileCheckFrequency"] = "1"
	b.start()
	b.addUser("Alice", outboundPW)
	b.outboundSubmit([]string{"user@remote.test"}, "held by NO_SENDMAIL", "wait for the recycle")
	b.outboundQueueRow("user@remote.test", "the queued message", func([]string) bool { return true })

	b.mail["Options"] = outboundOptions
	b.writeIni()
	coreWaitLog(b, "SendMail restarted with the new settings")
	if !routingPoll(30*time.Second, func() bool { return len(peer.messages()) > 0 }) {
		t.Fatalf("nothing arrived at the peer after the recycle; queue:\n%s", coreQueueList(b))
	}
	b.outboundQueueEmpty("the delivery after the recycle")
}

// When a demo port is taken the demo says at once which port, where to
// change it and exits, instead of retrying the bind.
func TestSettingsDemoPortTaken(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:2525")
	if err != nil {
		t.Skipf("demo port 2525 is busy: %v", err)
	}
	defer l.Close()
	dir := filepath.Join(t.TempDir(), "demo")
	cmd := exec.Command(bin, "demo", "-dir", dir)
	cmd.Env = append(os.Environ(), "SBBSCTRL=", "GORACE=atexit_sleep_ms=0")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the demo ran with its SMTP port taken:\n%s", out)
	}
	want := "port 2525 (SMTPPort) on 127.0.0.1:2525 is taken by another program: set another SMTPPort in [Mail] of " +
		filepath.Join(dir, "ctrl", "sbbs.ini")
	if !strings.Contains(string(out), want) || strings.Contains(string(out), "retrying") {
		t.Fatalf("demo output:\n%s\nwant %q", out, want)
	}
}

// SendMail logs in Synchronet's words: the failed attempt as its FAQ
// quotes it, the bounce, and the notice sent back.
func TestSettingsSendMailLogLines(t *testing.T) {
	t.Parallel()
	sink := startOutboundSink(t, 0, "-f", "RCPT")
	dns := startOutboundDNS(t, outboundMXRecords("remote.test"))
	b := outboundBBS(t, dns, sink.port)
	b.start()
	b.addUser("Alice", outboundPW)
	b.outboundSubmit([]string{"nobody@remote.test"}, "logged bounce", "This will bounce.")
	coreWaitLog(b, "SEND !Delivery failure notification (message #")
	log := b.log.String()
	for _, re := range []string{
		`Notice +SEND !Delivery attempt #1 FAILED \(.*5\d\d.*\) for message #\d+ from <alice@bbs\.test> to <nobody@remote\.test>`,
		`Notice +SEND !Bouncing message back to <alice@bbs\.test>`,
		`Notice +SEND !Delivery failure notification \(message #\d+\) created for <alice@bbs\.test>`,
	} {
		if !regexp.MustCompile(re).MatchString(log) {
			t.Errorf("log lacks %s", re)
		}
	}
}

// The same recipient given twice ("reader" and "Reader@BBS.TEST") gets
// one copy of the message.
func TestSettingsDuplicateRecipientOneCopy(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.start()
	b.addUser("Reader", "Dup-Rcpt-5")
	c := dial(t, b.addr(b.ports.SMTP))
	c.expect("220 ")
	c.send("EHLO client.example")
	c.expect("250 ")
	c.send("MAIL FROM:<joe@example.org>")
	c.expect("250 ")
	for _, to := range []string{"<reader>", "<Reader@BBS.TEST>"} {
		c.send("RCPT TO:" + to)
		c.expect("250 ")
	}
	c.send("DATA")
	c.expect("354 ")
	c.send(strings.TrimSuffix(coreMessage("joe@example.org", "reader@bbs.test", "only once"), "\r\n") + "\r\n.")
	c.expect("250 ")
	c.send("QUIT")
	c.expect("221 ")
	if rows := coreMailList(b, "Reader"); len(rows) != 1 {
		t.Fatalf("mailbox after one message to the same user twice:\n%s", strings.Join(rows, "\n"))
	}
}

// Settings bbsmail accepts without acting on them are named, with "no
// effect in bbsmail", by `bbsmail check` and at startup (Notice), never
// passed over in silence.
func TestSettingsWithoutEffectAreNoticed(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.mail["NewMailNotice"] = `%.0s\1n\1mNew e-mail from \1h%s`
	b.mail["ForwardNotice"] = `forwarded to %s`
	b.mail["Options"] = "ALLOW_POP3 | USE_SUBMISSION_PORT | TLS_SUBMISSION | TLS_POP3 | NO_HOST_LOOKUP | NO_SENDMAIL | SMTP_AUTH_VIA_IP"
	b.writeIni()
	_, stderr, code := b.run("", "check")
	for _, key := range []string{"NewMailNotice", "ForwardNotice", "SMTP_AUTH_VIA_IP"} {
		if code != 0 || !regexp.MustCompile(`notice: .*`+key+`: no effect in bbsmail`).MatchString(stderr) {
			t.Errorf("check (exit %d) does not notice %s:\n%s", code, key, stderr)
		}
	}
	if strings.Contains(stderr, "unknown key") {
		t.Errorf("check calls a known key unknown:\n%s", stderr)
	}
	b.start()
	for _, key := range []string{"NewMailNotice", "ForwardNotice", "SMTP_AUTH_VIA_IP"} {
		if !regexp.MustCompile(`Notice +configuration: .*` + key + `: no effect in bbsmail`).MatchString(b.log.String()) {
			t.Errorf("startup does not notice %s", key)
		}
	}
}

// After SIGTERM an open session that starts a new transaction gets
// 421 4.3.2 and is closed, while a message already in DATA is finished
// and kept.
func TestSettingsShutdownRefusesNewMail(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.mail["MaxInactivity"] = "10s" // bounds the shutdown grace period
	b.start()
	b.addUser("Reader", "Stop-Mail-4")
	inData := coreStartTx(t, b, "joe@example.org")
	inData.send("RCPT TO:<reader@bbs.test>")
	inData.expect("250 ")
	inData.send("DATA")
	inData.expect("354 ")
	idle := coreSMTPReady(t, b)
	idle.send("EHLO busy.example")
	idle.expect("250 ")

	coreSignal(b, syscall.SIGTERM)
	coreWaitLog(b, "shutting down")
	for {
		idle.send("MAIL FROM:<late@example.org>")
		r := idle.reply()
		if strings.HasPrefix(r, "421 4.3.2 ") {
			break
		}
		if !strings.HasPrefix(r, "250 ") {
			t.Fatalf("MAIL after SIGTERM: %q", r)
		}
		idle.send("RSET")
		idle.expect("250 ")
	}
	if !idle.closed() {
		t.Fatal("the session went on after 421")
	}
	inData.send(strings.TrimSuffix(coreMessage("joe@example.org", "reader@bbs.test", "finished after SIGTERM"), "\r\n") + "\r\n.")
	inData.expect("250 ")
	inData.send("QUIT")
	inData.expect("221 ")
	if code := coreExitCode(b, 30*time.Second); code != 0 {
		t.Fatalf("exit status %d after SIGTERM", code)
	}
}
