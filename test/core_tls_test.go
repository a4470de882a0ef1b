package test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// coreOpenSSL runs `openssl s_client` with the given arguments, feeding
// input (LF line ends; -crlf turns them into CR LF), and returns what it
// printed and its exit status. -ign_eof keeps it reading until the server
// closes the connection after QUIT, so every reply is in the output.
func coreOpenSSL(t *testing.T, input string, args ...string) (string, int) {
	t.Helper()
	openssl := needTool(t, "openssl", "openssl")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	full := append([]string{"s_client", "-crlf", "-ign_eof"}, args...)
	cmd := exec.CommandContext(ctx, openssl, full...)
	cmd.Stdin = strings.NewReader(input)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("openssl %s did not finish:\n%s", strings.Join(full, " "), out.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("openssl: %v", err)
	}
	return out.String(), code
}

// corePEMBody is the base64 text of the first PEM block in s, for comparing a
// certificate printed by s_client with the file on disk.
func corePEMBody(s string) string {
	const begin, end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
	i := strings.Index(s, begin)
	j := strings.Index(s, end)
	if i < 0 || j < i {
		return ""
	}
	return strings.Join(strings.Fields(s[i+len(begin):j]), "")
}

// On first start the server creates its own certificate (ctrl/ssl.cert,
// and ctrl/ssl.key readable by its owner only), and OpenSSL's client
// completes a handshake with it on every TLS entry point: STARTTLS on 25
// and 587, implicit TLS on 465 and 995, seeing the server's certificate,
// banner and EHLO/CAPA answers.
func TestCoreOpenSSLHandshakes(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.start()

	certFile, keyFile := filepath.Join(b.ctrl, "ssl.cert"), filepath.Join(b.ctrl, "ssl.key")
	cert, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatalf("no certificate after the first start: %v", err)
	}
	fi, err := os.Stat(keyFile)
	if err != nil {
		t.Fatalf("no private key after the first start: %v", err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("%s has mode %#o, want 0600", keyFile, mode)
	}
	want := corePEMBody(string(cert))

	cases := []struct {
		name, input string
		args        []string
		replies     []string
	}{
		{"STARTTLS on 25", "EHLO client.example\nQUIT\n",
			[]string{"-starttls", "smtp", "-connect", b.addr(b.ports.SMTP)},
			[]string{"250-AUTH PLAIN LOGIN CRAM-MD5", "250 HELP", "221 2.0.0"}},
		{"STARTTLS on 587", "EHLO client.example\nQUIT\n",
			[]string{"-starttls", "smtp", "-connect", b.addr(b.ports.Submission)},
			[]string{"250-AUTH PLAIN LOGIN CRAM-MD5", "250 HELP", "221 2.0.0"}},
		{"SMTPS on 465", "EHLO client.example\nQUIT\n",
			[]string{"-connect", b.addr(b.ports.SMTPS)},
			[]string{"220 bbs.test bbsmail SMTPS Server", "250-AUTH PLAIN LOGIN CRAM-MD5", "221 2.0.0"}},
		{"POP3S on 995", "CAPA\nQUIT\n",
			[]string{"-connect", b.addr(b.ports.POP3S)},
			[]string{"+OK bbs.test bbsmail POP3S Server", "+OK Capability list follows", "UIDL", "signing off"}},
	}
	for _, c := range cases {
		out, _ := coreOpenSSL(t, c.input, c.args...)
		if !strings.Contains(out, "Cipher is ") || strings.Contains(out, "Cipher is (NONE)") {
			t.Errorf("%s: no TLS session was established:\n%s", c.name, out)
			continue
		}
		if got := corePEMBody(out); got != want {
			t.Errorf("%s: the server presented a certificate other than %s:\n%s", c.name, certFile, out)
		}
		for _, r := range c.replies {
			if !strings.Contains(out, r) {
				t.Errorf("%s: no %q inside TLS:\n%s", c.name, r, out)
			}
		}
	}
}

// A TLS session ends with a close_notify alert on every port, STARTTLS
// included (RFC 8446 §6.1: each side MUST send it before closing). Without
// it OpenSSL clients report "unexpected eof while reading" and
// `openssl s_client -starttls smtp` exits 1 after a clean QUIT; this
// happened when the session closed the plain connection it started with
// instead of the TLS connection STARTTLS put over it.
func TestCoreSTARTTLSCloseNotify(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.start()
	for _, port := range []int{b.ports.SMTPS, b.ports.Submission} {
		args := []string{"-connect", b.addr(port)}
		if port != b.ports.SMTPS {
			args = append([]string{"-starttls", "smtp"}, args...)
		}
		out, code := coreOpenSSL(t, "EHLO client.example\nQUIT\n", args...)
		if !strings.Contains(out, "221 2.0.0") {
			t.Fatalf("port %d: no reply to QUIT:\n%s", port, out)
		}
		if code != 0 || strings.Contains(out, "unexpected eof") {
			t.Errorf("port %d: the server closed the TLS session without close_notify (openssl exit %d):\n%s",
				port, code, out)
		}
	}
}

// Commands a man in the middle slips in behind STARTTLS (or STLS), in the
// same packet, are never run inside the encrypted session (the injection
// of CVE-2011-0411): after the handshake the server answers only what
// the client sends over TLS.
func TestCoreSTARTTLSInjection(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.start()
	for _, c := range []struct {
		name, hello, upgrade, injected, after, want string
		port                                        int
	}{
		{"SMTP", "EHLO client.example", "STARTTLS", "RSET", "EHLO client.example", "250-bbs.test", b.ports.Submission},
		{"POP3", "CAPA", "STLS", "CAPA", "NOOP", "-ERR ", b.ports.POP3},
	} {
		raw := dial(t, b.addr(c.port))
		raw.reply() // greeting
		raw.send(c.hello)
		last := raw.reply() // SMTP: the last line of the EHLO reply
		for c.name == "POP3" && last != "." {
			last = raw.reply() // POP3: the CAPA list ends with a dot
		}
		raw.send(c.upgrade + "\r\n" + c.injected)
		if r := raw.reply(); !strings.HasPrefix(r, "220 ") && !strings.HasPrefix(r, "+OK") {
			t.Fatalf("%s: %s answered %q", c.name, c.upgrade, r)
		}
		tc := tls.Client(raw.c, &tls.Config{InsecureSkipVerify: true})
		if err := tc.Handshake(); err != nil {
			t.Logf("%s: the injected bytes broke the handshake (%v): not run either", c.name, err)
			continue
		}
		_ = tc.SetDeadline(time.Now().Add(30 * time.Second))
		if _, err := io.WriteString(tc, c.after+"\r\n"); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(tc).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, c.want) {
			t.Errorf("%s: first reply inside TLS is %q (%v), want the answer to %s (%q...), not to the injected %s",
				c.name, line, err, c.after, c.want, c.injected)
		}
	}
}
