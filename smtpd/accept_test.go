package smtpd_test

import (
	"bufio"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bbsmail/bbsmail/smtpd"
)

// flakyListener fails its first Accept calls the way a process out of
// file descriptors does (not a timeout), then works.
type flakyListener struct {
	net.Listener
	fails atomic.Int32
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if l.fails.Add(-1) >= 0 {
		return nil, errors.New("accept4: too many open files")
	}
	return l.Listener.Accept()
}

// Running out of file descriptors for a moment does not stop the server
// accepting on that port.
func TestAcceptSurvivesTransientErrors(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fl := &flakyListener{Listener: l}
	fl.fails.Store(3)
	srv := smtpd.New(smtpd.Config{HostName: "bbs.example", NoHostLookup: true}, smtpd.Deps{Resolver: fakeResolver{}, Maildrop: &fakeDrop{}})
	done := make(chan error, 1)
	go func() { done <- srv.Serve(fl, smtpd.MTA) }()
	c, err := net.Dial("tcp4", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "220 ") {
		t.Fatalf("greeting after transient accept errors: %q, %v", line, err)
	}
	select {
	case err := <-done:
		t.Fatalf("Serve returned: %v", err)
	default:
	}
	l.Close()
	if err := <-done; err == nil {
		t.Fatal("Serve returned nil after its listener was closed")
	}
}
