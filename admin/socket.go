package admin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"time"
)

// SocketName is the control socket's file name inside the data directory.
const SocketName = "bbsmail.sock"

// maxRequest bounds a request read from the socket.
const maxRequest = 1 << 20

type request struct {
	Args  []string `json:"args"`
	Stdin []byte   `json:"stdin,omitempty"`
}

type response struct {
	Stdout []byte `json:"stdout"`
	Stderr []byte `json:"stderr"`
	Code   int    `json:"code"`
}

// RunFunc runs one command line and returns its exit status.
type RunFunc func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int

// Listen creates the control socket at path (owner-only) and serves
// commands with run until ctx is done. A stale socket file left by a
// crash is replaced.
func Listen(ctx context.Context, path string, run RunFunc, log *slog.Logger) (func() error, error) {
	if c, err := net.DialTimeout("unix", path, 200*time.Millisecond); err == nil {
		c.Close()
		return nil, fmt.Errorf("control socket %s is in use: is another server running?", path)
	}
	_ = os.Remove(path)
	// The umask makes the socket owner-only as it is created. A chmod by
	// name afterwards would follow a link that someone who may write the
	// directory put in its place in between.
	old := umask(0o077)
	l, err := net.Listen("unix", path)
	umask(old)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	go func() {
		<-ctx.Done()
		l.Close()
	}()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go serveOne(ctx, c, run, log)
		}
	}()
	return func() error { _ = os.Remove(path); return l.Close() }, nil
}

func serveOne(ctx context.Context, c net.Conn, run RunFunc, log *slog.Logger) {
	defer c.Close()
	var resp response
	defer func() {
		if r := recover(); r != nil {
			log.Error(fmt.Sprintf("control socket: panic: %v\n%s", r, debug.Stack()))
			resp = response{Stderr: []byte("internal error (see the server log)\n"), Code: 70}
			_ = json.NewEncoder(c).Encode(resp)
		}
	}()
	_ = c.SetDeadline(time.Now().Add(5 * time.Minute))
	var req request
	if err := json.NewDecoder(io.LimitReader(c, maxRequest)).Decode(&req); err != nil {
		resp = response{Stderr: []byte("bad request\n"), Code: 2}
		_ = json.NewEncoder(c).Encode(resp)
		return
	}
	if streamed(req.Args) {
		serveStreamed(ctx, c, req, run)
		return
	}
	var stdout, stderr bytes.Buffer
	code := run(ctx, req.Args, bytes.NewReader(req.Stdin), &stdout, &stderr)
	resp = response{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), Code: code}
	_ = json.NewEncoder(c).Encode(resp)
}

// ErrNoServer means no server answers on the control socket.
var ErrNoServer = errors.New("no server on the control socket")

// Forward sends a command line to the server listening on path and copies
// its output. It returns ErrNoServer when nothing listens there, so the
// caller can run the command itself.
//
// The socket must belong to the current user, root, or the owner of its
// directory (the server's user): the command line sends new passwords,
// and a local user who can write the data directory could otherwise put
// a socket of their own in the server's place.
func Forward(path string, args []string, stdin []byte, stdout, stderr io.Writer) (int, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return 0, ErrNoServer
	}
	if err := trustedSocket(path, fi); err != nil {
		return 0, err
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return 0, ErrNoServer
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Minute))
	if err := json.NewEncoder(c).Encode(request{Args: args, Stdin: stdin}); err != nil {
		return 0, fmt.Errorf("control socket: %w", err)
	}
	br := bufio.NewReader(c)
	if streamed(args) {
		if err := readChunks(c, br, stdout); err != nil {
			return 0, err
		}
		_ = c.SetReadDeadline(time.Now().Add(time.Minute))
	}
	var resp response
	if err := json.NewDecoder(br).Decode(&resp); err != nil {
		return 0, fmt.Errorf("control socket: %w", err)
	}
	_, _ = stdout.Write(resp.Stdout)
	_, _ = stderr.Write(resp.Stderr)
	return resp.Code, nil
}
