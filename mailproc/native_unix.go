//go:build unix

package mailproc

import "syscall"

// shellPath runs native processors' command lines, as system() does.
const shellPath = "/bin/sh"

// procAttr puts the processor in a process group of its own, so that the
// time limit can stop it together with everything it started.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// killGroup ends the process group led by pid.
func killGroup(pid int) error { return syscall.Kill(-pid, syscall.SIGKILL) }
