package test

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Running as a Linux service: systemd's notification protocol, [UNIX]
// User/Group/umask/PidFile and the refusal to run mail processors as root.

// notifySocket is a fake service manager's NOTIFY_SOCKET for the server
// the test starts next. Any user may write to it, as to systemd's.
func notifySocket(t *testing.T) *net.UnixConn {
	t.Helper()
	dir, err := os.MkdirTemp("", "notify-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	return c
}

// nextNotification reads one datagram and fails unless it starts with want.
func nextNotification(t *testing.T, c *net.UnixConn, want string) string {
	t.Helper()
	buf := make([]byte, 4096)
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("waiting for %q: %v", want, err)
	}
	got := string(buf[:n])
	if !strings.HasPrefix(got, want) {
		t.Fatalf("notification %q, want %q first", got, want)
	}
	return got
}

// The server tells the service manager when it is ready (after every
// listener is bound), when it reloads on SIGHUP and when it stops.
func TestServiceNotify(t *testing.T) {
	c := notifySocket(t)
	b := newBBS(t)
	b.start()
	got := nextNotification(t, c, "READY=1\n")
	b.mu.Lock()
	pid := b.cmd.Process.Pid
	b.mu.Unlock()
	if !strings.Contains(got, "MAINPID="+strconv.Itoa(pid)+"\n") {
		t.Errorf("READY notification %q lacks MAINPID=%d", got, pid)
	}
	coreSMTPReady(t, b).c.Close() // READY=1 came after the listeners were up
	coreSignal(b, syscall.SIGHUP)
	nextNotification(t, c, "RELOADING=1\nMONOTONIC_USEC=")
	nextNotification(t, c, "READY=1\n")
	coreSignal(b, syscall.SIGTERM)
	nextNotification(t, c, "STOPPING=1\n")
	if code := coreExitCode(b, 30*time.Second); code != 0 {
		t.Errorf("exit status %d after SIGTERM", code)
	}
}

// procIDs returns the Uid:, Gid: and Groups: lines of /proc/PID/status.
func procIDs(t *testing.T, pid int) (uid, gid, groups string) {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		k, v, _ := strings.Cut(l, ":")
		switch k {
		case "Uid":
			uid = strings.Join(strings.Fields(v), " ")
		case "Gid":
			gid = strings.Join(strings.Fields(v), " ")
		case "Groups":
			groups = strings.TrimSpace(v)
		}
	}
	return uid, gid, groups
}

// openToAll lets another user reach the test's tree: t.TempDir makes its
// directories owner-only.
func openToAll(t *testing.T, dir string) {
	t.Helper()
	for d := dir; d != os.TempDir() && d != "/" && d != "."; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// Started as root with [UNIX] User = nobody, the server binds, drops to
// nobody/nogroup with no supplementary groups on every thread, owns its
// data files, writes the PID file with the [UNIX] umask, and mail flows.
func TestServiceDropsPrivileges(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the test starts the server as root and checks it becomes nobody")
	}
	b := newBBS(t)
	openToAll(t, b.root)
	b.addUser("Digital Man", "Drop-Pass-1")
	pidFile := filepath.Join(b.root, "bbsmail.pid")
	b.unix = map[string]string{"User": "nobody", "Group": "nogroup", "umask": "027", "PidFile": pidFile}
	b.start()
	coreWaitLog(b, "running as user nobody (uid 65534, gid 65534)")
	b.mu.Lock()
	pid := b.cmd.Process.Pid
	b.mu.Unlock()
	uid, gid, groups := procIDs(t, pid)
	if uid != "65534 65534 65534 65534" || gid != "65534 65534 65534 65534" || groups != "" {
		t.Errorf("server ids: Uid %q Gid %q Groups %q; want nobody/nogroup everywhere, no groups", uid, gid, groups)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil || strings.TrimSpace(string(data)) != strconv.Itoa(pid) {
		t.Errorf("PID file: %q, %v; want %d", data, err, pid)
	}
	if fi, err := os.Stat(pidFile); err == nil && fi.Mode().Perm() != 0o640 {
		t.Errorf("PID file mode %v, want 0640 from umask 027", fi.Mode().Perm())
	}
	fi, err := os.Stat(filepath.Join(b.root, "data", "bbsmail.db"))
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != 65534 || st.Gid != 65534 {
		t.Errorf("data/bbsmail.db owned by %d:%d, want 65534:65534", st.Uid, st.Gid)
	}
	coreDeliver(t, b, "joe@example.org", "digital.man@bbs.test", "delivered by nobody")
	if !coreHasSubject(coreMailList(b, "Digital Man"), "delivered by nobody") {
		t.Errorf("mail list after the drop:\n%s", b.must("mail", "list", "Digital Man"))
	}
	coreSignal(b, syscall.SIGHUP)
	coreWaitLog(b, "configuration reloaded (SIGHUP)")
}

// Root with mail processors and nowhere to drop to does not start.
func TestServiceRefusesRootMailProcessors(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the refusal only applies to a server running as root")
	}
	b := newBBS(t) // its mailproc.ini has processors
	b.unix = map[string]string{}
	if b.launch() {
		t.Fatalf("server started as root with mail processors:\n%s", b.log.String())
	}
	if !b.logContains("RootMailProcessors = true") {
		t.Errorf("the refusal does not say what to set:\n%s", b.log.String())
	}
}
