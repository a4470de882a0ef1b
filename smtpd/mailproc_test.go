package smtpd_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/smtpd"
)

// fakeProcessors answers with a fixed verdict and records what it saw.
type fakeProcessors struct {
	mu     sync.Mutex
	result *smtpd.ProcessResult
	err    error
	seen   []smtpd.ProcessInput
}

func (f *fakeProcessors) Process(_ context.Context, in *smtpd.ProcessInput) (*smtpd.ProcessResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	seen, env := *in, *in.Env // the server goes on to change Env
	env.Rcpts = slices.Clone(in.Env.Rcpts)
	seen.Env = &env
	seen.Text = bytes.Clone(in.Text) // in.Text is valid only during the call
	f.seen = append(f.seen, seen)
	if f.err != nil {
		return nil, f.err
	}
	if f.result == nil { // pass everything through unchanged
		return &smtpd.ProcessResult{Text: in.Text, Rcpts: in.Env.Rcpts}, nil
	}
	return f.result, nil
}

func (f *fakeProcessors) last() smtpd.ProcessInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seen[len(f.seen)-1]
}

// sendThroughProcessors runs one transaction to sysop and guest and
// returns the reply lines to the final dot.
func sendThroughProcessors(t *testing.T, ts *testServer) []string {
	t.Helper()
	c := ts.dial(t)
	c.expect("220")
	c.cmd("EHLO client.example", "250")
	c.cmd("MAIL FROM:<joe@remote.example>", "250")
	c.cmd("RCPT TO:<sysop@"+localDomain+">", "250")
	c.cmd("RCPT TO:<guest@"+localDomain+">", "250")
	c.cmd("DATA", "354")
	c.send("From: Joe Remote <joe@remote.example>\r\nSubject: hi\r\n\r\nbody\r\n.\r\n")
	var lines []string
	for {
		l, err := c.readLine()
		if err != nil {
			t.Fatalf("after the dot: %v (lines %q)", err, lines)
		}
		lines = append(lines, l)
		if len(l) < 4 || l[3] != '-' {
			return lines
		}
	}
}

func withProcessors(p smtpd.Processors) func(*smtpd.Deps) {
	return func(d *smtpd.Deps) { d.Processors = p }
}

// The processors see the message before the trace headers, the From
// header's sender and the last recipient; their rewritten text and
// recipient list are what gets stored.
func TestProcessorsRewrite(t *testing.T) {
	t.Parallel()
	p := &fakeProcessors{}
	ts := startServer(t, smtpd.MTA, nil, withProcessors(p))
	p.result = &smtpd.ProcessResult{
		Text:  []byte("Subject: rewritten\r\n\r\nnew body\r\n"),
		Rcpts: []envelope.Rcpt{{Kind: envelope.KindMailbox, To: "Guest", User: 2, ForwardPath: "<guest@" + localDomain + ">"}},
	}
	if got := sendThroughProcessors(t, ts); !strings.HasPrefix(got[0], "250 ") {
		t.Fatalf("reply %q, want 250", got)
	}
	in := p.last()
	if in.SenderAddr != "joe@remote.example" || in.SenderName != "Joe Remote" || in.LastRcpt != "guest@"+localDomain {
		t.Errorf("processors saw sender %q <%s>, last rcpt %q", in.SenderName, in.SenderAddr, in.LastRcpt)
	}
	if strings.Contains(string(in.Text), "Received:") || !strings.Contains(string(in.Text), "Subject: hi") {
		t.Errorf("processors saw %q, want the message as received, without the trace", in.Text)
	}
	if len(in.Env.Rcpts) != 2 {
		t.Errorf("processors saw %d recipients, want 2", len(in.Env.Rcpts))
	}
	env, msg := ts.drop.last()
	if env == nil || len(env.Rcpts) != 1 || env.Rcpts[0].User != 2 {
		t.Fatalf("stored for %+v, want guest only", env)
	}
	if string(msg) != "Subject: rewritten\r\n\r\nnew body\r\n" {
		t.Errorf("stored %q, want the processors' text", msg)
	}
	if len(env.Rcpts[0].Trace) == 0 {
		t.Error("the processors' recipient got no trace headers")
	}
}

// A processor's rejection is the client's answer, lines and all, and
// nothing is stored; a consumed message gets 250 and nothing is stored;
// a processor failure is a temporary error.
func TestProcessorsVerdicts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		result *smtpd.ProcessResult
		err    error
		want   []string
	}{
		{"reject", &smtpd.ProcessResult{Reject: &envelope.Reply{Code: 554, Enhanced: "5.7.1", Text: "no lists here\nask the sysop"}},
			nil, []string{"554-5.7.1 no lists here", "554 5.7.1 ask the sysop"}},
		{"consumed", &smtpd.ProcessResult{Consumed: true, Reason: "listserver took it"}, nil, []string{"250 2.0.0 OK"}},
		{"failure", nil, errors.New("processor exploded"), []string{"451 4.3.0 Local error"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := &fakeProcessors{result: c.result, err: c.err}
			ts := startServer(t, smtpd.MTA, nil, withProcessors(p))
			got := sendThroughProcessors(t, ts)
			if len(got) != len(c.want) {
				t.Fatalf("reply %q, want %q", got, c.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], c.want[i]) {
					t.Errorf("reply line %d %q, want %q...", i, got[i], c.want[i])
				}
			}
			if n := ts.drop.count(); n != 0 {
				t.Errorf("%d messages stored, want none", n)
			}
		})
	}
}
