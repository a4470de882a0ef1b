//go:build !linux

package main

import "syscall"

// childAttr leaves children in bbsbench's process group where the parent
// death signal is not available.
func childAttr(group bool) *syscall.SysProcAttr { return nil }
