package testkit

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// GTUBE is SpamAssassin's test string: any message that holds it scores
// as spam (1000 points).
const GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

// Spamd starts SpamAssassin's spamd on 127.0.0.1 and a free port, with
// network tests off (-L), and returns the port once it answers PING. It is
// stopped when the test ends. Without spamd (Debian package spamd) the test
// is skipped, saying so.
func Spamd(t testing.TB) int {
	t.Helper()
	bin, err := exec.LookPath("spamd")
	if err != nil {
		t.Skip("spamd not installed (Debian packages spamassassin and spamd): the SpamAssassin tests need it")
	}
	dir := t.TempDir()
	var last string
	for attempt := 0; attempt < 3; attempt++ {
		port := freePort(t)
		cmd := exec.Command(bin, "-L", "--listen=127.0.0.1:"+strconv.Itoa(port), "--allowed-ips=127.0.0.1",
			"--max-children=2", "-u", "nobody", "--nouser-config", "--helper-home-dir="+dir, "--syslog=stderr")
		log := &SyncBuffer{}
		cmd.Stdout, cmd.Stderr = log, log
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Skipf("spamd cannot start: %v", err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		stop := func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-done
			}
		}
		if spamdReady(port, done, 2*time.Minute) {
			t.Cleanup(stop)
			return port
		}
		stop()
		last = log.String()
	}
	t.Skipf("spamd did not come up on a loopback port:\n%s", last)
	return 0
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// spamdReady waits until spamd answers PING with PONG, or exits, or the
// deadline passes.
func spamdReady(port int, exited <-chan struct{}, wait time.Duration) bool {
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			_, _ = c.Write([]byte("PING SPAMC/1.2\r\n\r\n"))
			line, _ := bufio.NewReader(c).ReadString('\n')
			_ = c.Close()
			if strings.Contains(line, "PONG") {
				return true
			}
		}
		select {
		case <-exited:
			return false
		case <-time.After(100 * time.Millisecond):
		}
	}
	return false
}
