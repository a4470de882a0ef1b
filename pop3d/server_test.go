package pop3d_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/pop3d"
)

// dialLogin connects and logs in as joe, returning the reader after the
// login reply.
func dialLogin(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(ioTimeout))
	r := bufio.NewReader(c)
	if _, err := c.Write([]byte("USER joe\r\nPASS Secret Word\r\n")); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"+OK bbs.test", "+OK send", "+OK joe has"} {
		line, err := r.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, want) {
			t.Fatalf("line %d: %q, %v; want %q...", i, line, err, want)
		}
	}
	return c, r
}

// panicBase panics on Read, as a mailbase bug would.
type panicBase struct{ *fakeBase }

func (panicBase) Read(context.Context, uint32, uint64, []byte) ([]byte, error) {
	panic("mailbase bug")
}

func TestPanicInSessionClosesOnlyThatConnection(t *testing.T) {
	t.Parallel()
	ts := startServer(t, pop3d.Config{}, false, false)
	// Swap in a server whose mailbase panics, on its own listener.
	srv := pop3d.New(pop3d.Config{HostName: "bbs.test"}, pop3d.Deps{Auth: ts.base, Mailbox: panicBase{ts.base}})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l, pop3d.Plain) }()

	c, r := dialLogin(t, l.Addr().String())
	if _, err := c.Write([]byte("RETR 1\r\n")); err != nil {
		t.Fatal(err)
	}
	if line, err := r.ReadString('\n'); err == nil {
		t.Fatalf("after a panic the connection stays open: %q", line)
	}
	// The server is still serving, and the mailbox lock was released.
	c2, r2 := dialLogin(t, l.Addr().String())
	if _, err := c2.Write([]byte("STAT\r\n")); err != nil {
		t.Fatal(err)
	}
	if line, _ := r2.ReadString('\n'); line != "+OK 3 161\r\n" {
		t.Fatalf("STAT after panic: %q", line)
	}
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, pop3d.ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
}

func TestShutdownTellsIdleClientsAndDeletesNothing(t *testing.T) {
	t.Parallel()
	ts := startServer(t, pop3d.Config{}, false, false)
	c, r := dialLogin(t, ts.addr)
	if _, err := c.Write([]byte("DELE 1\r\n")); err != nil {
		t.Fatal(err)
	}
	if line, _ := r.ReadString('\n'); !strings.HasPrefix(line, "+OK") {
		t.Fatalf("DELE: %q", line)
	}
	ts.stop(t)
	if line, _ := r.ReadString('\n'); line != "-ERR [SYS/TEMP] Server shutting down\r\n" {
		t.Fatalf("idle client got %q at shutdown", line)
	}
	if _, err := r.ReadString('\n'); err == nil {
		t.Fatal("connection still open after shutdown")
	}
	if got := ts.base.ids(ts.base.deleted, "joe"); len(got) != 0 {
		t.Fatalf("shutdown deleted %v", got)
	}
	if _, err := net.DialTimeout("tcp", ts.addr, ioTimeout); err == nil {
		t.Fatal("listener still accepting after shutdown")
	}
}

func TestSetConfigAppliesToNewSessions(t *testing.T) {
	t.Parallel()
	ts := startServer(t, pop3d.Config{}, false, false)
	first, r1 := dialLogin(t, ts.addr)
	ts.srv.SetConfig(pop3d.Config{HostName: "renamed.test", MaxBadCommands: 1})
	c, err := net.DialTimeout("tcp", ts.addr, ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(ioTimeout))
	r := bufio.NewReader(c)
	if line, _ := r.ReadString('\n'); !strings.HasPrefix(line, "+OK renamed.test bbsmail POP3 Server Ready <") {
		t.Fatalf("greeting after SetConfig: %q", line)
	}
	// The session that started before keeps its settings.
	if _, err := first.Write([]byte("XXXX\r\nNOOP\r\n")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"-ERR Unknown command\r\n", "+OK\r\n"} {
		if line, _ := r1.ReadString('\n'); line != want {
			t.Fatalf("old session: %q, want %q", line, want)
		}
	}
}

func TestImplicitTLSNeedsCertificate(t *testing.T) {
	t.Parallel()
	srv := pop3d.New(pop3d.Config{}, pop3d.Deps{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := srv.Serve(l, pop3d.ImplicitTLS); !errors.Is(err, pop3d.ErrNoTLS) {
		t.Fatalf("Serve without a certificate in 995 mode: %v", err)
	}
}

// DEBUG_POP3 logs command lines but never a password, however the PASS
// line is spaced (a tab or a leading space does not get past the mask).
func TestDebugLogHidesPasswords(t *testing.T) {
	ts := startServer(t, pop3d.Config{Debug: true}, false, false)
	for _, line := range []string{"PASS Secret Word", "PASS\tSecret Word", " PASS Secret Word", "pass  Secret Word"} {
		c, err := net.DialTimeout("tcp", ts.addr, ioTimeout)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(ioTimeout))
		r := bufio.NewReader(c)
		if _, err := c.Write([]byte("USER joe\r\n" + line + "\r\nQUIT\r\n")); err != nil {
			t.Fatal(err)
		}
		for range 4 {
			if _, err := r.ReadString('\n'); err != nil {
				break
			}
		}
		_ = c.Close()
	}
	ts.stop(t)
	if log := ts.log.String(); strings.Contains(log, "Secret") {
		t.Errorf("a password reached the debug log:\n%s", log)
	} else if n := strings.Count(log, "PASS ********"); n != 4 {
		// Nothing logged at all would hide nothing: each PASS line must
		// be there, masked.
		t.Errorf("%d masked PASS lines in the debug log, want 4:\n%s", n, log)
	}
}

// The session reuses its buffers from one response to the next: pipelined
// RETR and TOP of a message larger than the buffers it keeps, and of small
// ones between, each bring exactly their own text, stuffed and ended.
func TestRetrResponsesOwnText(t *testing.T) {
	t.Parallel()
	ts := startServer(t, pop3d.Config{}, false, false)
	big := "Subject: big\r\n\r\n" + strings.Repeat(".dot line\r\nplain line\r\n", 5000) + "no final break"
	ts.base.mu.Lock()
	ts.base.users[0].msgs = append(ts.base.users[0].msgs, fixtureMsg{id: 20, text: big})
	ts.base.mu.Unlock()
	c, r := dialLogin(t, ts.addr)
	if _, err := c.Write([]byte("RETR 4\r\nRETR 1\r\nTOP 3 1\r\nRETR 4\r\nRETR 3\r\n")); err != nil {
		t.Fatal(err)
	}
	want := []string{big + "\r\n", "From: sysop@bbs.test\r\nSubject: one\r\n\r\nHello Joe\r\n", "Subject: dots\r\n\r\nline 1\r\n",
		big + "\r\n", "Subject: dots\r\n\r\nline 1\r\n.hidden dot\r\nline 3\r\n..two\r\nline 5\r\n"}
	for i, w := range want {
		if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "+OK") {
			t.Fatalf("response %d: %q, %v", i, line, err)
		}
		var got strings.Builder
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("response %d: %v", i, err)
			}
			if line == ".\r\n" {
				break
			}
			got.WriteString(strings.TrimPrefix(line, "."))
		}
		if got.String() != w {
			t.Fatalf("response %d: %d octets, want %d:\n%.200q", i, got.Len(), len(w), got.String())
		}
	}
}
