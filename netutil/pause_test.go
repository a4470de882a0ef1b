package netutil_test

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/netutil"
)

// While the gate is paused a client's connection waits unaccepted; Resume
// lets it in; closing the listener during a pause ends Accept with
// net.ErrClosed.
func TestGatePausesAccept(t *testing.T) {
	t.Parallel()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var g netutil.Gate
	l := g.Listener(raw)
	g.Pause()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	c, err := net.DialTimeout("tcp", raw.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case <-accepted:
		t.Fatal("a connection was accepted during the pause")
	default:
	}
	if !g.Paused() {
		t.Fatal("Paused() = false")
	}
	g.Resume()
	select {
	case sc := <-accepted:
		if sc == nil {
			t.Fatal("Accept failed after Resume")
		}
		sc.Close()
	case <-time.After(10 * time.Second):
		t.Fatal("no connection accepted after Resume")
	}

	g.Pause()
	done := make(chan error, 1)
	go func() {
		_, err := l.Accept()
		done <- err
	}()
	l.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept after Close during a pause: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Accept still blocked after Close")
	}
}
