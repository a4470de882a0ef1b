package pop3d_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/internal/testkit"
	"github.com/bbsmail/bbsmail/pop3d"
)

// FuzzPOP3Session feeds arbitrary bytes to a whole session, over net.Pipe,
// through the real command loop, login, STLS and the transaction commands
// against a fresh copy of the fixture mailbase for every input. Every
// session must end, every reply must be a status line ("+OK" or "-ERR")
// answering one command line in order, with the multi-line answers of
// CAPA, LIST, UIDL, RETR and TOP ended by a lone dot, and no panic may
// happen, not even one the session recovers from. The input is followed by
// a QUIT line, so a session that never ends is a bug.
//
//	go test -run XXX -fuzz FuzzPOP3Session -fuzztime 3m ./pop3d/
func FuzzPOP3Session(f *testing.F) {
	for _, s := range []string{
		"USER joe\r\nPASS Secret Word\r\nSTAT\r\nLIST\r\nUIDL\r\nRETR 1\r\nTOP 3 1\r\nDELE 2\r\nLIST 2\r\nRSET\r\n",
		"CAPA\r\nAPOP alice 0123456789abcdef0123456789abcdef\r\nUSER alice\r\nPASS wonderland\r\nRETR 1\r\nQUIT\r\n",
		"STLS\r\n\x16\x03\x01\x00\x05hello",
		"user joe\nPASS secret word\nlist 1\nuidl 9\nTOP 1 0\nNOOP\n",
	} {
		f.Add([]byte(s))
	}
	fz := newPOP3Fuzzer(f)
	f.Fuzz(func(t *testing.T, input []byte) {
		fz.panics.Reset()
		out, err := fz.session(input)
		if err != nil {
			t.Fatal(err)
		}
		if p := fz.panics.Last(); p != "" {
			t.Fatalf("the session panicked:\n%s", p)
		}
		if err := checkPOP3Replies(input, out); err != nil {
			t.Fatalf("%v\nreplies:\n%s", err, out)
		}
	})
}

// The harness runs the real session: a login and a RETR come back whole.
func TestFuzzPOP3Harness(t *testing.T) {
	fz := newPOP3Fuzzer(t)
	in := []byte("USER joe\r\nPASS Secret Word\r\nRETR 1\r\n")
	out, err := fz.session(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkPOP3Replies(in, out); err != nil {
		t.Fatalf("%v\nreplies:\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("Hello Joe\r\n.\r\n")) || !bytes.Contains(out, []byte("signing off")) {
		t.Fatalf("no message text or no QUIT reply:\n%s", out)
	}
}

// checkPOP3Replies pairs the replies with the command lines that caused
// them: the greeting, then one reply per line (a bare LF ends a line, as
// for the server) until the replies run out.
func checkPOP3Replies(input, out []byte) error {
	r := bufio.NewReader(bytes.NewReader(out))
	next := func() (string, error) {
		l, err := r.ReadString('\n')
		if err != nil {
			return "", err
		}
		if !strings.HasSuffix(l, "\r\n") {
			return "", fmt.Errorf("line without CR LF: %q", l)
		}
		return l[:len(l)-2], nil
	}
	status := func(l string) bool { return strings.HasPrefix(l, "+OK") || strings.HasPrefix(l, "-ERR") }
	g, err := next()
	if err != nil || !strings.HasPrefix(g, "+OK ") {
		return fmt.Errorf("no greeting: %q %v", g, err)
	}
	lines := strings.SplitAfter(string(append(input, pop3Trailer...)), "\n")
	for _, line := range lines {
		if !strings.HasSuffix(line, "\n") {
			break // no command without its line end
		}
		l, err := next()
		if errors.Is(err, io.EOF) {
			return nil // the session ended
		}
		if err != nil {
			return err
		}
		if !status(l) {
			return fmt.Errorf("reply to %q is not a status line: %q", line, l)
		}
		verb, arg, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		verb = strings.ToUpper(verb)
		if !strings.HasPrefix(l, "+OK") {
			continue
		}
		if verb == "STLS" {
			return nil // TLS records follow
		}
		if verb == "CAPA" || verb == "RETR" || verb == "TOP" || ((verb == "LIST" || verb == "UIDL") && strings.TrimSpace(arg) == "") {
			for {
				d, err := next()
				if err != nil {
					return fmt.Errorf("multi-line answer to %q not ended: %v", line, err)
				}
				if d == "." {
					break
				}
			}
		}
	}
	if rest, _ := io.ReadAll(r); len(rest) > 0 {
		return fmt.Errorf("replies with no command: %q", rest)
	}
	return nil
}

const pop3Trailer = "\r\nQUIT\r\n"

// pop3Fuzzer is one server for all inputs of a fuzzing process; each input
// is one session on its own pipe, against a fresh fixture mailbase.
type pop3Fuzzer struct {
	srv    *pop3d.Server
	port   *testkit.PipeListener
	base   atomic.Pointer[fakeBase]
	panics testkit.PanicLog
}

func newPOP3Fuzzer(tb testing.TB) *pop3Fuzzer {
	fz := &pop3Fuzzer{port: testkit.NewPipeListener(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 110})}
	fz.base.Store(newFakeBase())
	fz.panics.Key = "panic" // session.run logs a recovered panic under this key
	cert, _ := testkit.Cert(tb, "bbs.test")
	cfg := pop3d.Config{
		HostName:       "bbs.test",
		Version:        "1.0",
		TLS:            &tls.Config{Certificates: []tls.Certificate{cert}},
		MaxInactivity:  3 * time.Second, // a session waiting for bytes that never come ends soon; a loaded machine still greets in time
		MaxBadCommands: 1000,
		Logger:         slog.New(&fz.panics),
		Debug:          true,
		LookupAddr:     func(context.Context, string) ([]string, error) { return []string{"client.example."}, nil },
		LookupHost:     func(context.Context, string) ([]string, error) { return []string{"127.0.0.2"}, nil },
	}
	mb := fuzzBase{fz}
	fz.srv = pop3d.New(cfg, pop3d.Deps{Auth: mb, Mailbox: mb})
	served := make(chan error, 1)
	go func() { served <- fz.srv.Serve(fz.port, pop3d.Plain) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = fz.srv.Shutdown(ctx)
		<-served
	})
	return fz
}

// session runs one session on a pipe, against a fresh fixture mailbase,
// and returns everything the server sent.
func (fz *pop3Fuzzer) session(input []byte) ([]byte, error) {
	fz.base.Store(newFakeBase())
	return fz.port.Session(input, []byte(pop3Trailer))
}

// fuzzBase passes every call to the current input's fixture mailbase.
type fuzzBase struct{ fz *pop3Fuzzer }

func (b fuzzBase) Authenticate(ctx context.Context, login, password string) (envelope.Identity, error) {
	return b.fz.base.Load().Authenticate(ctx, login, password)
}

func (b fuzzBase) Secret(ctx context.Context, login string) (envelope.Identity, string, error) {
	return b.fz.base.Load().Secret(ctx, login)
}

func (b fuzzBase) List(ctx context.Context, user uint32) ([]pop3d.Message, error) {
	return b.fz.base.Load().List(ctx, user)
}

func (b fuzzBase) Read(ctx context.Context, user uint32, id uint64, buf []byte) ([]byte, error) {
	return b.fz.base.Load().Read(ctx, user, id, buf)
}

func (b fuzzBase) MarkRead(ctx context.Context, user uint32, ids ...uint64) error {
	return b.fz.base.Load().MarkRead(ctx, user, ids...)
}

func (b fuzzBase) Delete(ctx context.Context, user uint32, ids ...uint64) error {
	return b.fz.base.Load().Delete(ctx, user, ids...)
}
