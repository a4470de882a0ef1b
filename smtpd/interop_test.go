package smtpd_test

import (
	"bytes"
	"context"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/smtpd"
)

// Python's smtplib submits a message over STARTTLS with AUTH PLAIN to two
// recipients; the mailbase must get the text byte for byte.
func TestInteropPythonSmtplib(t *testing.T) {
	t.Parallel()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not on PATH; the smtplib interop test needs it")
	}
	ts := startServer(t, smtpd.Submission, nil)
	dir := t.TempDir()
	ca := writeCAFile(t, ts)
	msg := []byte("From: Sysop <sysop@bbs.example>\r\nTo: guest@bbs.example\r\nSubject: interop\r\n\r\n" +
		".a line starting with a dot\r\n8-bit text: caf\xc3\xa9\r\n\r\nlast line\r\n")
	msgFile := filepath.Join(dir, "msg.eml")
	if err := os.WriteFile(msgFile, msg, 0o600); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(ts.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, "testdata/interop/smtp_send.py", host, port, ca, msgFile).CombinedOutput()
	if err != nil {
		t.Fatalf("smtp_send.py: %v\n%s", err, out)
	}
	env, got := ts.drop.last()
	if env == nil {
		t.Fatal("nothing delivered")
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("stored text differs:\n got %q\nwant %q", got, msg)
	}
	if len(env.Rcpts) != 2 || env.Proto != "ESMTPSA" || env.Helo != "interop.example" {
		t.Fatalf("envelope: %+v", env)
	}
}

// writeCAFile writes the server's certificate as a PEM file for clients.
func writeCAFile(t *testing.T, ts *testServer) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	der := ts.serverCert
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
