package main

import "syscall"

// childAttr has the kernel send a child SIGTERM should bbsbench die
// without cleaning up (SIGKILL, a crash), and with group set puts it in a
// process group of its own. A daemon that makes itself a session leader
// (Postfix's master) must not get a group: setsid fails for a group leader.
func childAttr(group bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: group, Pdeathsig: syscall.SIGTERM}
}
