package test

import (
	"bytes"
	"context"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// coreTLSEntries are the server's TLS entry points as s_client arguments.
func coreTLSEntries(b *bbs) map[string][]string {
	return map[string][]string{
		"STARTTLS on 25":  {"-starttls", "smtp", "-connect", b.addr(b.ports.SMTP)},
		"STARTTLS on 587": {"-starttls", "smtp", "-connect", b.addr(b.ports.Submission)},
		"SMTPS on 465":    {"-connect", b.addr(b.ports.SMTPS)},
		"STLS on 110":     {"-starttls", "pop3", "-connect", b.addr(b.ports.POP3)},
		"POP3S on 995":    {"-connect", b.addr(b.ports.POP3S)},
	}
}

func coreEstablished(out string) bool {
	return strings.Contains(out, "Cipher is ") && !strings.Contains(out, "Cipher is (NONE)")
}

// Every TLS entry point speaks TLS 1.2 and 1.3 only, and with TLS 1.2 only
// forward-secret AEAD suites: OpenSSL's client offering TLS 1.1 (its
// security level lowered so that it really does) gets a protocol_version
// alert, one offering only a CBC suite a handshake_failure, and a plain
// -tls1_2 client gets TLS 1.2 with an AEAD suite.
func TestCoreTLSVersionsAndSuites(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.start()
	for name, args := range coreTLSEntries(b) {
		out, _ := coreOpenSSL(t, "QUIT\n", append([]string{"-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"}, args...)...)
		if coreEstablished(out) || !strings.Contains(out, "alert protocol version") {
			t.Errorf("%s: TLS 1.1 was not refused with protocol_version:\n%s", name, out)
		}
		out, _ = coreOpenSSL(t, "QUIT\n", append([]string{"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA"}, args...)...)
		if coreEstablished(out) || !strings.Contains(out, "alert handshake failure") {
			t.Errorf("%s: a CBC-only TLS 1.2 client was not refused:\n%s", name, out)
		}
		out, _ = coreOpenSSL(t, "QUIT\n", append([]string{"-tls1_2"}, args...)...)
		if !coreEstablished(out) || !strings.Contains(out, "Protocol  : TLSv1.2") {
			t.Errorf("%s: no TLS 1.2 session:\n%s", name, out)
		} else if !strings.Contains(out, "GCM") && !strings.Contains(out, "CHACHA20") {
			t.Errorf("%s: TLS 1.2 session without an AEAD suite:\n%s", name, out)
		}
	}
}

// A client may not renegotiate: after "R" (s_client's renegotiate command)
// the server refuses the new ClientHello and the session ends; with
// renegotiation allowed s_client would go on waiting for input.
func TestCoreTLSNoRenegotiation(t *testing.T) {
	t.Parallel()
	openssl := needTool(t, "openssl", "openssl")
	b := newBBS(t)
	b.start()
	for name, args := range coreTLSEntries(b) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, openssl, append([]string{"s_client", "-tls1_2"}, args...)...)
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// The pipe stays open: only the server can end this session.
		_, _ = io.WriteString(stdin, "R\n")
		_ = cmd.Wait()
		stdin.Close()
		timedOut := ctx.Err() != nil
		cancel()
		s := out.String()
		switch {
		case timedOut:
			t.Errorf("%s: the session went on after a renegotiation request:\n%s", name, s)
		case !strings.Contains(s, "RENEGOTIATING"):
			t.Errorf("%s: s_client did not try to renegotiate:\n%s", name, s)
		}
	}
	// Go's server refuses the second ClientHello (its log says so); which
	// error s_client prints depends on whether the greeting crossed it.
	const refused = "unexpected handshake message of type *tls.clientHelloMsg"
	waitFor(t, 30*time.Second, "5 refused renegotiations in the server log", func() bool {
		return strings.Count(b.log.String(), refused) == len(coreTLSEntries(b))
	})
}
