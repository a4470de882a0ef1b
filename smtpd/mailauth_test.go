package smtpd_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"sync"
	"testing"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/smtpd"
)

// fakeMailAuth answers by the Subject: "refuse" and "tag" ask for those;
// every message gets a marker field in front. It records what it saw.
type fakeMailAuth struct {
	mu  sync.Mutex
	ins []smtpd.MailAuthInput
}

func (f *fakeMailAuth) Check(_ context.Context, in *smtpd.MailAuthInput) smtpd.MailAuthResult {
	// in.Text lives only as long as the message (smtpd frees its buffer,
	// an unmapped arena for big texts): keep a copy.
	rec := *in
	rec.Text = bytes.Clone(in.Text)
	f.mu.Lock()
	f.ins = append(f.ins, rec)
	f.mu.Unlock()
	r := smtpd.MailAuthResult{Text: append([]byte("Authentication-Results: bbs.example; spf=pass\r\n"), in.Text...), Summary: "spf=pass"}
	switch {
	case strings.Contains(string(in.Text), "Subject: refuse"):
		r.Reject, r.Reason = &envelope.Reply{Code: 550, Enhanced: "5.7.1", Text: "Message refused: DMARC"}, "DMARC"
	case strings.Contains(string(in.Text), "Subject: tag"):
		r.Spam, r.Reason = true, "DMARC quarantine"
	}
	return r
}

func (f *fakeMailAuth) seen() []smtpd.MailAuthInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]smtpd.MailAuthInput(nil), f.ins...)
}

// The verdict's text is what is stored; a refusal is the client's answer
// and stores nothing; a tag stores the message as spam with the subject
// tag; the check sees the text as it came (before the DNSBL tag changes
// the Subject) and knows an authenticated client.
func TestMailAuthVerdicts(t *testing.T) {
	t.Parallel()
	ma := &fakeMailAuth{}
	ts := startServer(t, smtpd.MTA, func(c *smtpd.Config) {
		stranger(c)
		c.DNSBL = fakeDNSBL{listed: true}
		c.DNSBLHeader, c.DNSBLSubject = "X-DNSBL", "SPAM"
	}, func(d *smtpd.Deps) { d.MailAuth = ma })
	c := ts.dial(t)
	c.expect("220 ")
	c.cmd("EHLO client.example", "250 ")
	to := []string{"sysop@bbs.example"}

	if r := sendMail(c, "carol@example.com", to, "From: carol@example.com\r\nSubject: refuse\r\n\r\nx"); !strings.HasPrefix(r, "550 5.7.1 Message refused: DMARC") {
		t.Errorf("refused: %q", r)
	}
	if ts.drop.count() != 0 {
		t.Fatal("a refused message was stored")
	}
	if r := sendMail(c, "carol@example.com", to, "From: carol@example.com\r\nSubject: tag\r\n\r\nx"); !strings.HasPrefix(r, "250 ") {
		t.Fatalf("tagged: %q", r)
	}
	env, msg := ts.drop.last()
	if !env.Spam || !strings.Contains(string(msg), "Authentication-Results: bbs.example; spf=pass\r\n") ||
		!strings.Contains(string(msg), "Subject: SPAM: tag\r\n") {
		t.Errorf("tagged message (listed too, so tagged once): spam %v\n%s", env.Spam, msg)
	}
	seen := ma.seen()
	if got := string(seen[1].Text); !strings.Contains(got, "Subject: tag\r\n") || seen[1].Authenticated || seen[1].ClientIP != "127.0.0.1" || seen[1].Helo != "client.example" || seen[1].ReversePath != "carol@example.com" {
		t.Errorf("the check saw %+v", seen[1])
	}
	if !strings.Contains(readFile(t, ts.spamLog), "Reason: DMARC quarantine") {
		t.Errorf("spam.log has no tag entry:\n%s", readFile(t, ts.spamLog))
	}

	c.cmd("STARTTLS", "220 ")
	c.startTLS(ts.clientTLS)
	c.cmd("EHLO client.example", "250 ")
	c.cmd("AUTH PLAIN "+base64.StdEncoding.EncodeToString([]byte("\x00sysop\x00Secret1")), "235 ")
	if r := sendMail(c, "sysop@bbs.example", []string{"guest@bbs.example"}, "From: sysop@bbs.example\r\nSubject: hi\r\n\r\nx"); !strings.HasPrefix(r, "250 ") {
		t.Fatalf("authenticated: %q", r)
	}
	if seen := ma.seen(); !seen[len(seen)-1].Authenticated {
		t.Error("the check was not told the client is authenticated")
	}
}
