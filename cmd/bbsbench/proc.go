package main

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// child is one process bbsbench started and has to stop again.
type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has been waited for
	err  error         // Wait's result, valid once done is closed
}

// exited reports whether the process has ended.
func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stop asks the process to end with SIGTERM and kills it if it is still
// there after grace. It returns once the process has been reaped.
func (c *child) stop(grace time.Duration) {
	if c.exited() {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// procs remembers every child so that one deferred call ends them all,
// whichever way the program leaves (error, interrupt, normal end).
type procs struct {
	mu   sync.Mutex
	list []*child
}

// start runs cmd in the background. Unless the caller set
// cmd.SysProcAttr, children get their own process group (so a terminal's
// Ctrl-C reaches bbsbench only, which then stops them in order) and, on
// Linux, die with bbsbench should it be killed outright.
func (p *procs) start(name string, cmd *exec.Cmd) (*child, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = childAttr(true)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	p.mu.Lock()
	p.list = append(p.list, c)
	p.mu.Unlock()
	return c, nil
}

// stopAll stops every child still running, the most recent first.
func (p *procs) stopAll() {
	p.mu.Lock()
	list := append([]*child(nil), p.list...)
	p.list = nil
	p.mu.Unlock()
	for i := len(list) - 1; i >= 0; i-- {
		list[i].stop(10 * time.Second)
	}
}

// runCmd runs a short command to completion under ctx and returns its
// standard output; a failure carries its standard error.
func runCmd(ctx context.Context, stdin io.Reader, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = childAttr(true)
	cmd.Stdin = stdin
	var out, errOut limitedBuffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %v: %w: %s", name, args, err, errOut.String())
	}
	return out.String(), nil
}

// limitedBuffer keeps the first 1 MiB written to it, so a chatty child
// cannot exhaust memory.
type limitedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

const bufferLimit = 1 << 20

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := bufferLimit - len(b.buf); room > 0 {
		b.buf = append(b.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
