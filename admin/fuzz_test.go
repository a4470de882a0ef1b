package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// FuzzControlRequest feeds arbitrary bytes to the control socket's request
// handling, as a client of the socket would send them: whatever arrives,
// the server answers with one well-formed response and never panics, and
// a command runs only with the arguments the request really held.
func FuzzControlRequest(f *testing.F) {
	for _, s := range []string{
		`{"args":["user","list"]}`,
		`{"args":["user","add","--password","-","carol"],"stdin":"cHcK"}`,
		`{"args":null}`,
		`{}`,
		`{"args":["a"],"stdin":"!!not base64"}`,
		`{"args":[1,2]}`,
		`[`,
		"",
		`{"args":["\u0000","\ud800"]}`,
		`{"args":["x"]}{"args":["second"]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, req []byte) {
		wd := time.AfterFunc(30*time.Second, func() { panic(fmt.Sprintf("hung on %q", req)) })
		defer wd.Stop()
		client, server := socketPair(t)
		defer client.Close()
		var got []string
		ran := false
		run := func(_ context.Context, args []string, stdin io.Reader, stdout, _ io.Writer) int {
			ran, got = true, args
			_, _ = io.Copy(stdout, stdin)
			return 0
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			serveOne(context.Background(), server, run, slog.New(slog.DiscardHandler))
		}()
		_ = client.SetDeadline(time.Now().Add(10 * time.Second))
		go func() {
			_, _ = client.Write(req)
			// The end of the request: the server sees EOF after it.
			_ = client.CloseWrite()
		}()
		var resp response
		if err := json.NewDecoder(client).Decode(&resp); err != nil {
			t.Fatalf("request %q: no well-formed response: %v", req, err)
		}
		client.Close()
		<-done
		var want request
		if json.NewDecoder(bytes.NewReader(req)).Decode(&want) != nil {
			if ran || resp.Code != 2 {
				t.Fatalf("bad request %q ran (%v) or answered %d", req, ran, resp.Code)
			}
			return
		}
		if !ran || len(got) != len(want.Args) {
			t.Fatalf("request %q ran %v with %q", req, ran, got)
		}
		for i := range got {
			if got[i] != want.Args[i] {
				t.Fatalf("request %q ran with %q", req, got)
			}
		}
	})
}

// socketPair returns the two ends of a connected Unix stream socket pair,
// which, unlike net.Pipe, can be half closed as a real client does.
func socketPair(t *testing.T) (*net.UnixConn, net.Conn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) net.Conn {
		f := os.NewFile(uintptr(fd), "control socket pair")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	return conn(fds[0]).(*net.UnixConn), conn(fds[1])
}
