package test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// plainBinary builds bbsmail without -race once per test run: the race
// runtime's shadow memory would swamp what a memory test measures.
var plainBinary = sync.OnceValues(func() (string, error) {
	exe := filepath.Join(filepath.Dir(bin), "bbsmail-plain") // removed by TestMain
	out, err := exec.Command("go", "build", "-o", exe, "../cmd/bbsmail").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("building bbsmail: %v\n%s", err, out)
	}
	return exe, nil
})

// procStatus returns a field of /proc/PID/status in KiB.
func procStatus(t *testing.T, pid int, field string) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc status for the server: %v", err)
	}
	for l := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("%s: %q", field, l)
			}
			return kb
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// memoryBBS starts a server from the plain binary with one user.
func memoryBBS(t *testing.T) (*bbs, int) {
	t.Helper()
	if testing.Short() {
		t.Skip("moves hundreds of megabytes; not in -short")
	}
	exe, err := plainBinary()
	if err != nil {
		t.Fatal(err)
	}
	b := newBBS(t)
	b.exe = exe
	b.glob["LogLevel"] = "Info"
	b.start()
	b.addUser("Digital Man", "Memory-Pass-1")
	return b, b.cmd.Process.Pid
}

// sendBig sends one message of about size octets and returns the reply to
// its final dot.
func sendBig(t *testing.T, b *bbs, size int) (string, error) {
	c := dial(t, b.addr(b.ports.SMTP))
	_ = c.c.SetDeadline(time.Now().Add(3 * time.Minute))
	w := bufio.NewWriterSize(c.c, 64<<10)
	step := func(cmd, want string) error {
		if _, err := io.WriteString(c.c, cmd+"\r\n"); err != nil {
			return err
		}
		if r := c.reply(); !strings.HasPrefix(r, want) {
			return fmt.Errorf("%s: got %q, want %q", cmd, r, want)
		}
		return nil
	}
	if r := c.reply(); !strings.HasPrefix(r, "220 ") {
		return "", fmt.Errorf("greeting %q", r)
	}
	for _, s := range [][2]string{{"EHLO client.example", "250 "}, {"MAIL FROM:<joe@example.org>", "250 "},
		{"RCPT TO:<digital.man@bbs.test>", "250 "}, {"DATA", "354 "}} {
		if err := step(s[0], s[1]); err != nil {
			return "", err
		}
	}
	fmt.Fprintf(w, "From: <joe@example.org>\r\nSubject: big\r\n\r\n")
	line := bytes.Repeat([]byte("m"), 998)
	for n := 0; n < size; n += len(line) + 2 {
		w.Write(line)
		w.WriteString("\r\n")
	}
	w.WriteString(".\r\n")
	if err := w.Flush(); err != nil {
		return "", err
	}
	return c.reply(), nil
}

// Eight 15 MB messages received at once keep the server's peak RSS under
// about twice the text in flight plus 100 MiB (340 MiB): the text is held
// once, without copies as it grows, and the store's commit adds the one
// copy bbolt makes.
func TestCoreMemoryConcurrentBigMessages(t *testing.T) {
	b, pid := memoryBBS(t)
	before := procStatus(t, pid, "VmHWM")
	const n, size = 8, 15 << 20
	errs := make(chan error, n)
	for range n {
		go func() {
			r, err := sendBig(t, b, size)
			if err == nil && !strings.HasPrefix(r, "250 ") {
				err = fmt.Errorf("final dot: %q", r)
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	peak := procStatus(t, pid, "VmHWM")
	t.Logf("server peak RSS: %d MiB before, %d MiB after %d concurrent %d MiB messages", before>>10, peak>>10, n, size>>20)
	if limit := int64(340 << 10); peak > limit {
		t.Fatalf("peak RSS %d KiB, want under %d KiB", peak, limit)
	}
	if rows := coreMailList(b, "Digital Man"); len(rows) != n {
		t.Fatalf("%d messages stored, want %d", len(rows), n)
	}
}

// A message over MaxMsgSize (20M) costs at most what it held up to the
// limit, which it gives back as soon as it passes it: 50 MB sent raise the
// peak RSS by less than MaxMsgSize and a margin for the process's own
// buffers.
func TestCoreMemoryOversizeMessage(t *testing.T) {
	b, pid := memoryBBS(t)
	before := procStatus(t, pid, "VmHWM")
	r, err := sendBig(t, b, 50<<20)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r, "552 5.3.4 ") {
		t.Fatalf("final dot: %q, want 552 5.3.4", r)
	}
	peak := procStatus(t, pid, "VmHWM")
	t.Logf("server peak RSS: %d MiB before, %d MiB after a 50 MiB message over MaxMsgSize", before>>10, peak>>10)
	if grown := peak - before; grown > (20+12)<<10 {
		t.Fatalf("peak RSS grew by %d KiB, want under %d KiB", grown, (20+12)<<10)
	}
}
