package main

import (
	"fmt"
	"os/user"
	"strconv"
	"syscall"
)

// childAttr has the kernel send a child SIGTERM should bbsbench die
// without cleaning up (SIGKILL, a crash), and with group set puts it in a
// process group of its own. A daemon that makes itself a session leader
// (Postfix's master) must not get a group: setsid fails for a group leader.
func childAttr(group bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: group, Pdeathsig: syscall.SIGTERM}
}

// nobodyAttr is childAttr(true) for a child that starts as the user
// nobody. Switching users here rather than with the program's own option
// (smtp-sink -u) matters: the kernel forgets the parent-death signal when a
// process changes its own credentials, so such a child would outlive us.
func nobodyAttr() (*syscall.SysProcAttr, error) {
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, err
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("user nobody has ids %s:%s", u.Uid, u.Gid)
	}
	a := childAttr(true)
	a.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	return a, nil
}
