package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// findTool returns the path of one of Postfix's programs, looked up in
// $PATH and in the sbin directories Debian installs them to, or "".
func findTool(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/usr/lib/postfix/sbin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// sink is a running smtp-sink that counts the messages it has received.
type sink struct {
	port int
	proc *child
	out  *sinkCounter
}

// startSink runs `smtp-sink -c 127.0.0.1:PORT 1000` on a free port. It
// refuses to run as root, so as root it starts as nobody.
func startSink(ctx context.Context, p *procs, bin string) (*sink, error) {
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	args := []string{"-c"}
	var attr *syscall.SysProcAttr
	if os.Geteuid() == 0 {
		if attr, err = nobodyAttr(); err != nil {
			args = append(args, "-u", "nobody")
		}
	}
	args = append(args, addr, "1000")
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = attr
	out := &sinkCounter{}
	cmd.Stdout, cmd.Stderr = out, out
	c, err := p.start("smtp-sink", cmd)
	if err != nil {
		return nil, err
	}
	if err := waitPort(ctx, c, addr, 10*time.Second); err != nil {
		c.stop(5 * time.Second)
		return nil, fmt.Errorf("smtp-sink: %w: %s", err, out.text())
	}
	// waitPort's probe connection is a session without a message; it
	// does not change the message count.
	return &sink{port: ports[0], proc: c, out: out}, nil
}

// waitMessages waits until the sink has received n messages and returns
// when that happened.
func (s *sink) waitMessages(ctx context.Context, n int, limit time.Duration) (time.Time, error) {
	err := waitUntil(ctx, limit, fmt.Sprintf("smtp-sink to receive %d messages", n), func() (bool, error) {
		if s.proc.exited() {
			return false, fmt.Errorf("smtp-sink exited: %s", s.out.text())
		}
		return s.out.messages() >= n, nil
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("%w (it has %d)", err, s.out.messages())
	}
	return s.out.reachedAt(n), nil
}

// sinkCounter parses the counters smtp-sink -c writes ("sess=N quit=N
// mesg=N", each line ended by a carriage return) and notes the moment
// each new count was seen.
type sinkCounter struct {
	mu      sync.Mutex
	partial []byte
	count   int
	at      time.Time // when count was first seen
	tail    []byte    // recent output, for error messages
}

var mesgRe = regexp.MustCompile(`mesg=(\d+)`)

func (s *sinkCounter) Write(p []byte) (int, error) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tail = append(s.tail, p...)
	if len(s.tail) > 2048 {
		s.tail = s.tail[len(s.tail)-2048:]
	}
	s.partial = append(s.partial, p...)
	for {
		i := indexLineEnd(s.partial)
		if i < 0 {
			break
		}
		if m := mesgRe.FindSubmatch(s.partial[:i]); m != nil {
			if n, err := strconv.Atoi(string(m[1])); err == nil && n > s.count {
				s.count, s.at = n, now
			}
		}
		s.partial = s.partial[i+1:]
	}
	return len(p), nil
}

func indexLineEnd(b []byte) int {
	for i, c := range b {
		if c == '\r' || c == '\n' {
			return i
		}
	}
	return -1
}

func (s *sinkCounter) messages() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// reachedAt is when the count reached at least n (the latest update).
func (s *sinkCounter) reachedAt(n int) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.count < n {
		return time.Time{}
	}
	return s.at
}

func (s *sinkCounter) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.tail)
}

// sourceRun is one timed run of smtp-source.
type sourceRun struct {
	args    []string
	elapsed time.Duration
	n       int
}

func (r sourceRun) rate() float64 { return float64(r.n) / r.elapsed.Seconds() }

// runSource runs smtp-source with n messages of size bytes over clients
// parallel sessions, new connection per message unless reuse (-d), and
// times it.
func runSource(ctx context.Context, bin, addr string, n, clients, size int, reuse bool, to string) (sourceRun, error) {
	args := []string{"-l", strconv.Itoa(size), "-m", strconv.Itoa(n), "-s", strconv.Itoa(clients),
		"-f", extSender, "-t", to, "-M", "bbsbench.invalid"}
	if reuse {
		args = append([]string{"-d"}, args...)
	}
	args = append(args, addr)
	// smtp-source stops at its first unexpected reply; a generous bound
	// still guarantees the run ends.
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute+time.Duration(n)*20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := runCmd(ctx, nil, bin, args...)
	return sourceRun{args: args, elapsed: time.Since(start), n: n}, err
}
