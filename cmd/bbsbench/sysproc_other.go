//go:build !linux

package main

import (
	"errors"
	"syscall"
)

// childAttr leaves children in bbsbench's process group where the parent
// death signal is not available.
func childAttr(group bool) *syscall.SysProcAttr { return nil }

// nobodyAttr is not offered here; smtp-sink then switches users itself.
func nobodyAttr() (*syscall.SysProcAttr, error) {
	return nil, errors.New("not supported on this system")
}
