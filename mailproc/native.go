package mailproc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"time"
)

// maxOutput bounds how much of a native processor's standard output and
// error is kept for the debug log.
const maxOutput = 64 << 10

// waitDelay is how long a stopped processor's output pipes may stay open
// (held by a child that escaped the process group) before Wait gives up.
const waitDelay = 2 * time.Second

// runNative runs cmd through /bin/sh -c with standard input from
// /dev/null and env added to the server's environment, in a process group
// of its own, and waits for it until ctx ends; then the whole group is
// killed. Its output is logged at debug level. A non-zero exit status, a
// signal or the time limit is a failure.
func (s *Set) runNative(ctx context.Context, cmd string, env []string, log *slog.Logger) error {
	c := exec.CommandContext(ctx, shellPath, "-c", cmd)
	c.SysProcAttr = procAttr()
	c.Cancel = func() error { return killGroup(c.Process.Pid) }
	c.WaitDelay = waitDelay
	// Scripts written for Synchronet find the control directory here.
	c.Env = append(append(os.Environ(), "SBBSCTRL="+dirSlash(s.cfg.CtrlDir)), env...)
	var out limitedBuffer
	c.Stdout, c.Stderr = &out, &out
	err := c.Run()
	logLines(bytes.NewReader(out.Bytes()), log, "External mail processor output: ")
	if err == nil {
		return nil
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w (%v): killed", ErrTimeout, s.cfg.timeout())
	}
	if ctx.Err() != nil {
		return fmt.Errorf("stopped: %w", ctx.Err())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return fmt.Errorf("command returned %d: %w", ee.ExitCode(), err)
	}
	return fmt.Errorf("command: %w", err)
}

// limitedBuffer keeps the first maxOutput bytes written to it and discards
// the rest; stdout and stderr share it, so it is locked.
type limitedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := maxOutput - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *limitedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Bytes()
}

// environ gives a native processor the exact values the command line only
// carries made inert (expand): the names mirror the JavaScript globals.
// An environment variable is never read as shell syntax unless a script
// asks for that (eval), so this is where a processor should take them
// from. Control characters, which no honest value holds, are removed.
func environ(in *Input) []string {
	env := in.Env
	return []string{
		"MAILPROC_HELLO_NAME=" + clean(env.Helo),
		"MAILPROC_SENDER_NAME=" + clean(in.SenderName),
		"MAILPROC_SENDER_ADDRESS=" + clean(in.SenderAddr),
		"MAILPROC_REVERSE_PATH=" + clean(angle(env.ReversePath)),
		"MAILPROC_RECIPIENT_ADDRESS=" + clean(in.LastRcpt),
		"MAILPROC_HOST_NAME=" + clean(env.ClientHost),
		"MAILPROC_IP_ADDRESS=" + clean(env.ClientIP),
	}
}
