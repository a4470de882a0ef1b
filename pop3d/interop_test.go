package pop3d_test

import (
	"context"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/pop3d"
)

// TestPythonPoplib has Python's poplib retrieve and delete mail over the
// plain port, APOP, STLS and implicit TLS.
func TestPythonPoplib(t *testing.T) {
	t.Parallel()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not on PATH; the poplib interop test needs it")
	}
	ts := startServer(t, pop3d.Config{}, true, false)
	// The implicit-TLS listener shares the server, its certificate and its
	// mailbase, as ports 110 and 995 do in production.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = ts.srv.Serve(l, pop3d.ImplicitTLS) }()

	cafile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(cafile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.certDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(ts.addr)
	_, tlsPort, _ := net.SplitHostPort(l.Addr().String())

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "testdata/interop/poplib_client.py", host, port, tlsPort, cafile)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("poplib client failed: %v\n%s", err, out)
	}
	ts.stop(t)
	if got := ts.base.ids(ts.base.deleted, "joe"); !slices.Equal(got, []uint64{9}) {
		t.Errorf("joe's deleted messages: %v, want [9]", got)
	}
	if got := ts.base.ids(ts.base.read, "joe"); !slices.Equal(got, []uint64{12}) {
		t.Errorf("joe's read messages: %v, want [12]", got)
	}
	if got := ts.base.ids(ts.base.read, "alice"); !slices.Equal(got, []uint64{4}) {
		t.Errorf("alice's read messages: %v, want [4]", got)
	}
	t.Logf("%s", out)
}
