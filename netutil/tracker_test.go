package netutil

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// Admit counts and tracks a session whatever the verdict, so Wait also
// waits for refusals; Done releases the count; after Close new sessions
// are refused as ShuttingDown and Serve returns ErrClosing.
func TestTrackerAdmitDoneClose(t *testing.T) {
	conns := &Conns{}
	tr := NewTracker[int](conns)
	l := Limits{MaxClients: 1}
	if slot, v := tr.Admit(1, "192.0.2.1", l); v != Admitted || slot == nil {
		t.Fatalf("first: %v %v", slot, v)
	}
	if slot, v := tr.Admit(2, "192.0.2.2", l); v != TooManyClients || slot != nil {
		t.Fatalf("second: %v %v, want TooManyClients and no slot", slot, v)
	}
	n := 0
	tr.Each(func(int) { n++ })
	if n != 2 {
		t.Fatalf("%d sessions tracked, want 2 (the refused one too)", n)
	}
	tr.Done(2)
	tr.Done(1)
	if a := conns.Active(); a != 0 {
		t.Fatalf("%d connections counted after Done, want 0", a)
	}
	if err := tr.Wait(context.Background(), func(int) { t.Error("cut called") }); err != nil {
		t.Fatalf("Wait: %v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- tr.Serve(ln, func(c net.Conn) { c.Close() }) }()
	// Close waits for nothing: whether Serve registered ln first or not,
	// it returns ErrClosing.
	tr.Close()
	select {
	case err := <-served:
		if !errors.Is(err, ErrClosing) {
			t.Fatalf("Serve: %v, want ErrClosing", err)
		}
	case <-time.After(10 * time.Second):
		ln.Close()
		t.Fatal("Serve did not return after Close")
	}
	if _, v := tr.Admit(3, "192.0.2.3", Limits{}); v != ShuttingDown {
		t.Fatalf("after Close: %v, want ShuttingDown", v)
	}
	tr.Done(3)
}

// When Wait's context ends first, every session still running is cut and
// Wait returns once they are Done.
func TestTrackerWaitCuts(t *testing.T) {
	tr := NewTracker[string](nil)
	tr.Admit("a", "192.0.2.1", Limits{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var cut []string
	err := tr.Wait(ctx, func(s string) {
		cut = append(cut, s)
		go tr.Done(s)
	})
	if !errors.Is(err, context.Canceled) || len(cut) != 1 || cut[0] != "a" {
		t.Fatalf("Wait: %v, cut %v", err, cut)
	}
}

// A session may be admitted while Wait waits on none tracked (a
// connection accepted just before Close): no panic, and Wait returns once
// none is tracked.
func TestTrackerAdmitDuringWait(t *testing.T) {
	tr := NewTracker[int](nil)
	tr.Close()
	stop := make(chan struct{})
	go func() {
		defer close(stop)
		for i := range 2000 {
			tr.Admit(i, "192.0.2.1", Limits{})
			tr.Done(i)
		}
	}()
	for {
		if err := tr.Wait(context.Background(), func(int) {}); err != nil {
			t.Fatalf("Wait: %v", err)
		}
		select {
		case <-stop:
			return
		default:
		}
	}
}
