package smtpd_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/internal/testkit"
	"github.com/bbsmail/bbsmail/smtpd"
)

// FuzzSMTPSession feeds arbitrary bytes to a whole session, over net.Pipe,
// through the real command loop, AUTH, STARTTLS and the DATA pipeline to a
// Maildrop that throws the message away once it has checked it. Every
// session must end, every reply line must be a reply (three digits, then
// a space or a hyphen), and no panic may happen, not even one the session
// recovers from. The input is followed by lines that end a DATA, cancel
// an AUTH exchange and QUIT, so a session that never ends is a bug.
//
//	go test -run XXX -fuzz FuzzSMTPSession -fuzztime 3m ./smtpd/
func FuzzSMTPSession(f *testing.F) {
	for _, s := range []string{
		"EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<sysop@bbs.example>\r\nDATA\r\nFrom: a@b\r\n\r\nhi\r\n.\r\n",
		"HELO x\r\nAUTH PLAIN AHN5c29wAFNlY3JldDE=\r\nMAIL FROM:<sysop@bbs.example>\r\nRCPT TO:<x@elsewhere.example>\r\nDATA\r\nFrom: \"guest@bbs.example\" <sysop@bbs.example>\r\n\r\n.\r\n",
		"EHLO x\r\nSEND FROM:<a@b>\r\nRCPT TO:<sysop>\r\nDATA\r\nhello\r\n.\r\n",
		"EHLO x\r\nSTARTTLS\r\n\x16\x03\x01\x00\x05hello",
	} {
		f.Add(false, []byte(s))
		f.Add(true, []byte(s))
	}
	fz := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, submission bool, input []byte) {
		mode := smtpd.MTA
		if submission {
			mode = smtpd.Submission
		}
		fz.panics.Reset()
		fz.dropErr.Store("")
		replies, err := fz.session(mode, input)
		if err != nil {
			t.Fatal(err)
		}
		if p := fz.panics.Last(); p != "" {
			t.Fatalf("the session panicked:\n%s", p)
		}
		if e := fz.dropErr.Load().(string); e != "" {
			t.Fatal(e)
		}
		for i, l := range replies {
			if !smtpReply.Match(l) {
				t.Fatalf("reply line %d is not a reply: %q", i+1, l)
			}
		}
		if len(replies) == 0 || !bytes.HasPrefix(replies[0], []byte("220 ")) {
			t.Fatalf("no greeting: %q", replies)
		}
	})
}

// The harness runs the real pipeline: a message is delivered and the
// sender checks answer.
func TestFuzzSMTPHarness(t *testing.T) {
	fz := newFuzzServer(t)
	for _, c := range []struct{ input, want string }{
		{"EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<sysop@bbs.example>\r\nDATA\r\nFrom: a@b\r\n\r\nhi\r\n.\r\n", "250 2.0.0 OK "},
		{"EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<sysop@bbs.example>\r\nDATA\r\nFrom: \"guest@bbs.example\" <a@b>\r\n\r\n.\r\n", "554 5.7.1 Mail header contains mismatched 'FROM' field\r\n"},
	} {
		replies, err := fz.session(smtpd.MTA, []byte(c.input))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, l := range replies {
			found = found || bytes.HasPrefix(l, []byte(c.want))
		}
		if !found || !bytes.HasPrefix(replies[len(replies)-1], []byte("221 ")) {
			t.Errorf("no %q, or no 221 at the end: %q", c.want, replies)
		}
	}
}

var smtpReply = regexp.MustCompile(`^[2-5][0-9][0-9][ -][^\r\n]*\r\n$`)

// fuzzServer is one server for all inputs of a fuzzing process; each
// input is one session on its own pipe, handed to the port 25 or the port
// 587 listener.
type fuzzServer struct {
	srv     *smtpd.Server
	ports   map[smtpd.Mode]*testkit.PipeListener
	panics  testkit.PanicLog
	dropErr atomic.Value // the last broken promise checkDrop found
}

func newFuzzServer(f testing.TB) *fuzzServer {
	fz := &fuzzServer{ports: map[smtpd.Mode]*testkit.PipeListener{
		smtpd.MTA:        testkit.NewPipeListener(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 25}),
		smtpd.Submission: testkit.NewPipeListener(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 587}),
	}}
	fz.panics.Key = "stack" // session.serve logs a recovered panic with its stack
	cert, _ := testkit.Cert(f, localDomain)
	serverTLS := &tls.Config{Certificates: []tls.Certificate{cert}}
	cfg := smtpd.Config{
		HostName:       localDomain,
		Version:        "1.0",
		TLS:            serverTLS,
		MaxInactivity:  time.Second, // a session waiting for bytes that never come ends soon
		MaxMsgSize:     1 << 20,
		MaxRecipients:  10,
		MaxBadCommands: 1000,
		SpamLogPath:    f.TempDir() + "/spam.log",
		Logger:         slog.New(&fz.panics),
		LookupAddr: func(context.Context, string) ([]string, error) {
			return []string{"client.example."}, nil
		},
		LookupHost: func(context.Context, string) ([]string, error) { return []string{"127.0.0.1"}, nil },
		DebugTx:    true, DebugRxRsp: true, DebugRxHeader: true, DebugRxBody: true,
	}
	tele := &fakeTelegrams{online: map[uint32]bool{1: true}}
	fz.srv = smtpd.New(cfg, smtpd.Deps{Auth: fakeAuth{}, Resolver: fakeResolver{allowRelay: cfg.AllowRelay, tele: tele}, Maildrop: checkDrop{fz}, Telegrams: tele})
	served := make(chan error, len(fz.ports))
	for mode, l := range fz.ports {
		go func() { served <- fz.srv.Serve(l, mode) }()
	}
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = fz.srv.Shutdown(ctx)
		for range fz.ports {
			<-served
		}
	})
	return fz
}

// session runs one session on a pipe and returns the reply lines, up to
// STARTTLS's 220: after it the server speaks TLS records.
func (fz *fuzzServer) session(mode smtpd.Mode, input []byte) ([][]byte, error) {
	out, err := fz.ports[mode].Session(input, []byte("\r\n.\r\n*\r\nQUIT\r\n"))
	var replies [][]byte
	for _, l := range bytes.SplitAfter(out, []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		replies = append(replies, l)
		if bytes.HasPrefix(l, []byte("220 2.0.0 Ready to start TLS")) {
			break
		}
	}
	return replies, err
}

// checkDrop is the Maildrop: it checks what Deliver promises to get (every
// recipient with its trace, CR LF line ends) and keeps nothing.
type checkDrop struct{ fz *fuzzServer }

func (d checkDrop) Deliver(_ context.Context, env *envelope.Envelope, msg []byte) error {
	var broken string
	switch {
	case len(env.Rcpts) == 0:
		broken = "Deliver without recipients"
	case bytes.Contains(bytes.ReplaceAll(msg, []byte("\r\n"), nil), []byte("\n")):
		broken = "a bare LF in a message handed to Deliver"
	}
	for _, r := range env.Rcpts {
		if len(r.Trace) == 0 {
			broken = "a recipient without its trace"
		}
	}
	if broken != "" {
		d.fz.dropErr.Store(broken)
		return errors.New(broken)
	}
	return nil
}
