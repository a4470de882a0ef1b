package main

import (
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// notifier speaks systemd's service notification protocol (sd_notify(3)):
// newline-separated KEY=VALUE datagrams to the unix socket named by
// $NOTIFY_SOCKET. It is a no-op when the variable is unset, so `bbsmail
// serve` behaves the same outside systemd. The socket is connected at
// start, before privileges are dropped, so the unprivileged process can
// still reach a socket only root may open.
type notifier struct {
	mu   sync.Mutex
	conn *net.UnixConn
}

func newNotifier() (*notifier, error) {
	n := &notifier{}
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return n, nil
	}
	if path[0] == '@' { // an abstract socket
		path = "\x00" + path[1:]
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return n, fmt.Errorf("NOTIFY_SOCKET: %w", err)
	}
	n.conn = c
	return n, nil
}

func (n *notifier) send(lines ...string) {
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.conn == nil {
		return
	}
	_, _ = n.conn.Write([]byte(strings.Join(lines, "\n") + "\n"))
}

// ready tells the manager every listener is up.
func (n *notifier) ready(status string) {
	n.send("READY=1", "STATUS="+status, fmt.Sprintf("MAINPID=%d", os.Getpid()))
}

// reloading starts a reload; ready ends it. MONOTONIC_USEC is what
// Type=notify-reload wants with RELOADING=1.
func (n *notifier) reloading() {
	n.send("RELOADING=1", fmt.Sprintf("MONOTONIC_USEC=%d", monotonicUsec()))
}

func (n *notifier) stopping() { n.send("STOPPING=1", "STATUS=shutting down") }

func (n *notifier) close() {
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.conn != nil {
		n.conn.Close()
		n.conn = nil
	}
}

// clockMonotonic is CLOCK_MONOTONIC from <time.h>; package syscall has
// no clock_gettime wrapper.
const clockMonotonic = 1

func monotonicUsec() int64 {
	var ts syscall.Timespec
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockMonotonic, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return time.Now().UnixMicro()
	}
	return ts.Nano() / 1000
}

// underJournal reports whether w is the stream systemd's journal reads:
// $JOURNAL_STREAM holds that stream's "device:inode", which a sub-process
// with redirected output does not share (sd_journal_stream_fd(3)).
func underJournal(w any) bool {
	env := os.Getenv("JOURNAL_STREAM")
	f, ok := w.(*os.File)
	if env == "" || !ok {
		return false
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return false
	}
	return env == fmt.Sprintf("%d:%d", st.Dev, st.Ino)
}
