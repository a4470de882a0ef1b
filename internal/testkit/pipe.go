package testkit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

// PipeListener is a net.Listener whose connections are net.Pipe ends, for
// session fuzzing: no sockets, no ports, and a whole session per input.
// Server ends report Local as their local address and 127.0.0.2 as the
// client's, so servers see an ordinary TCP client.
type PipeListener struct {
	Local *net.TCPAddr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

// NewPipeListener returns a listener for local (such as 127.0.0.1:25).
func NewPipeListener(local *net.TCPAddr) *PipeListener {
	return &PipeListener{Local: local, conns: make(chan net.Conn), done: make(chan struct{})}
}

// Dial hands the server end of a new pipe to Accept and returns the client
// end. It blocks until the server accepts, and returns nil once the
// listener is closed.
func (l *PipeListener) Dial() net.Conn {
	client, server := net.Pipe()
	select {
	case l.conns <- pipeConn{server, l.Local}:
		return client
	case <-l.done:
		client.Close()
		server.Close()
		return nil
	}
}

// Session runs one session: it writes input and then trailer (the lines
// that must end any session, such as QUIT) on a new pipe while reading
// everything the server sends until it closes. A server still talking
// after 30 seconds is a session that did not end. The pipe is closed before
// Session returns, which unblocks a writer the server stopped reading.
func (l *PipeListener) Session(input, trailer []byte) ([]byte, error) {
	client := l.Dial()
	if client == nil {
		return nil, net.ErrClosed
	}
	defer client.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = client.Write(input)
		_, _ = client.Write(trailer)
	}()
	_ = client.SetReadDeadline(time.Now().Add(30 * time.Second))
	out, err := io.ReadAll(client)
	client.Close()
	wg.Wait()
	if err != nil && !errors.Is(err, io.ErrClosedPipe) {
		return out, fmt.Errorf("the session did not end: %w", err)
	}
	return out, nil
}

func (l *PipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *PipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *PipeListener) Addr() net.Addr { return l.Local }

type pipeConn struct {
	net.Conn
	local *net.TCPAddr
}

func (c pipeConn) LocalAddr() net.Addr { return c.local }
func (pipeConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 40000}
}

// PanicLog is a slog.Handler for fuzzed servers: it throws records away
// but remembers the last one that carries the attribute Key (what a
// server logs with a panic it recovered). Records are looked at, not text,
// so client input echoed in a debug log can't pass for a panic.
type PanicLog struct {
	Key  string
	mu   sync.Mutex
	last string
}

// Reset forgets what was seen, before the next input.
func (p *PanicLog) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last = ""
}

// Last is the last panic record seen since Reset, or "".
func (p *PanicLog) Last() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last
}

func (*PanicLog) Enabled(context.Context, slog.Level) bool { return true }
func (p *PanicLog) WithAttrs([]slog.Attr) slog.Handler     { return p }
func (p *PanicLog) WithGroup(string) slog.Handler          { return p }

func (p *PanicLog) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == p.Key {
			p.mu.Lock()
			p.last = r.Message + "\n" + a.Value.String()
			p.mu.Unlock()
		}
		return true
	})
	return nil
}
