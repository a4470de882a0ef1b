//go:build !unix

package mailproc

import (
	"os"
	"syscall"
)

// shellPath runs native processors' command lines. Systems without a POSIX
// shell are not supported for native processors; the run fails with the
// error of starting it.
const shellPath = "/bin/sh"

func procAttr() *syscall.SysProcAttr { return nil }

// killGroup ends the processor itself; without process groups its
// children may outlive it.
func killGroup(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
