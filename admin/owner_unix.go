//go:build unix

package admin

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// trustedSocket checks the control socket at path (fi is its Lstat) before
// anything is sent to it: a socket, owned by the current user, by root or
// by the owner of the directory that holds it.
func trustedSocket(path string, fi os.FileInfo) error {
	if fi.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("control socket %s is not a socket", path)
	}
	owner, ok := uidOf(fi)
	if !ok || owner == uint32(os.Geteuid()) || owner == 0 {
		return nil
	}
	if di, err := os.Stat(filepath.Dir(path)); err == nil {
		if dirOwner, ok := uidOf(di); ok && dirOwner == owner {
			return nil
		}
	}
	return fmt.Errorf("control socket %s belongs to uid %d, neither you, root nor the owner of its directory: not sending the command there", path, owner)
}

func uidOf(fi os.FileInfo) (uint32, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return st.Uid, true
}
