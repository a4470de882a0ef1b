package test

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// capNetBindService is CAP_NET_BIND_SERVICE's number (capability.h).
const capNetBindService = 10

// lowPort finds a free loopback port below 1024.
func lowPort(t *testing.T) int {
	t.Helper()
	for p := 1023; p >= 600; p-- {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err == nil {
			l.Close()
			return p
		}
	}
	t.Skip("no free port below 1024 on 127.0.0.1")
	return 0
}

// Without root at all: the README's two routes to port 25 for an
// unprivileged user, the binary's file capability (setcap) and the
// ambient capability systemd's AmbientCapabilities= grants. Each starts
// the server as nobody on a port below 1024 and sends it mail.
func TestServiceLowPortWithoutRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to set up the unprivileged user's tree and capabilities")
	}
	setcap, err := exec.LookPath("setcap")
	if err != nil {
		t.Skip("setcap not installed (Debian: libcap2-bin)")
	}
	t.Run("setcap", func(t *testing.T) {
		b, exe := unprivilegedBBS(t)
		if out, err := exec.Command(setcap, "cap_net_bind_service=+ep", exe).CombinedOutput(); err != nil {
			t.Skipf("setcap on %s failed (file system without capabilities?): %v %s", exe, err, out)
		}
		runUnprivileged(t, b, exe, nil)
	})
	t.Run("ambient", func(t *testing.T) {
		b, exe := unprivilegedBBS(t)
		runUnprivileged(t, b, exe, []uintptr{capNetBindService})
	})
}

// unprivilegedBBS is a test tree owned by nobody with its own copy of
// the binary (the shared one lives in an owner-only directory).
func unprivilegedBBS(t *testing.T) (*bbs, string) {
	t.Helper()
	b := newBBS(t)
	b.ports.SMTP = lowPort(t)
	b.unix = map[string]string{} // no processors may run as root; none will
	b.writeIni()
	exe := filepath.Join(b.root, "bbsmail")
	src, err := os.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(exe, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	dst.Close()
	openToAll(t, b.root)
	err = filepath.Walk(b.root, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, 65534, 65534)
	})
	if err != nil {
		t.Fatal(err)
	}
	return b, exe
}

// runUnprivileged starts exe serve as nobody, with ambient capabilities
// when caps is not nil, and checks its SMTP port on the low port answers.
func runUnprivileged(t *testing.T, b *bbs, exe string, caps []uintptr) {
	t.Helper()
	log := &syncBuffer{}
	cmd := exec.Command(exe, "serve", "-ctrl", b.ctrl)
	cmd.Env = append(os.Environ(), "SBBSCTRL=", "NOTIFY_SOCKET=")
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential:  &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}},
		AmbientCaps: caps,
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("server log:\n%s", log.String())
		}
	})
	waitFor(t, 60*time.Second, "the server to start as nobody", func() bool {
		select {
		case <-done:
			t.Fatalf("server exited:\n%s", log.String())
		default:
		}
		return strings.Contains(log.String(), " started on ")
	})
	if !strings.Contains(log.String(), fmt.Sprintf("SMTP server listening on 127.0.0.1:%d", b.ports.SMTP)) {
		t.Fatalf("no SMTP listener on port %d:\n%s", b.ports.SMTP, log.String())
	}
	c := coreSMTPReady(t, b)
	c.send("QUIT")
	c.expect("221 ")
}
