package ftn

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// bsoDir is the outbound directory for a (BinkleyTerm-Style Outbound):
// OUTBOUND for the main zone, OUTBOUND.ZZZ (hex) for the others, and
// NNNNnnnn.pnt inside for a point.
func (c *Config) bsoDir(a Addr) string {
	dir := filepath.Clean(c.Outbound)
	if len(c.Addrs) > 0 && a.Zone != c.Addrs[0].Zone {
		dir += fmt.Sprintf(".%03x", a.Zone)
	}
	if a.Point != 0 {
		dir = filepath.Join(dir, fmt.Sprintf("%04x%04x.pnt", a.Net, a.Node))
	}
	return dir
}

// bsoName is the file name of a's packet or lock without extension.
func bsoName(a Addr) string {
	if a.Point != 0 {
		return fmt.Sprintf("%08x", a.Point)
	}
	return fmt.Sprintf("%04x%04x", a.Net, a.Node)
}

// PacketPath is where netmail to next hop a waits, in flavour f.
func (c *Config) PacketPath(a Addr, f Flavour) string {
	return filepath.Join(c.bsoDir(a), bsoName(a)+"."+string(rune(f))+"ut")
}

func (c *Config) busyPath(a Addr) string {
	return filepath.Join(c.bsoDir(a), bsoName(a)+".bsy")
}

// lockToken is what our .bsy files hold, so a crashed run's locks can be
// told from a mailer's.
const lockToken = "bbsmail "

// lock creates a's .bsy file, the BSO lock binkd and the tossers honour.
// It reports false when somebody else holds it.
func (c *Config) lock(a Addr) (unlock func(), ok bool, err error) {
	path := c.busyPath(a)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, false, err
	}
	for try := 0; try < 2; try++ {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			fmt.Fprintf(f, "%s%d\n", lockToken, os.Getpid())
			f.Close()
			return func() { os.Remove(path) }, true, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, false, err
		}
		if !c.staleLock(path) {
			return nil, false, nil
		}
		c.log().Warn("FidoNet: removing stale lock " + path)
		os.Remove(path)
	}
	return nil, false, nil
}

// staleLock reports whether the .bsy at path is ours from a process that
// is gone, or older than StaleLock.
func (c *Config) staleLock(path string) bool {
	st, err := os.Stat(path)
	if err != nil {
		return false
	}
	if c.StaleLock > 0 && time.Since(st.ModTime()) > c.StaleLock {
		return true
	}
	b, err := os.ReadFile(path)
	if err != nil || !strings.HasPrefix(string(b), lockToken) {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b[len(lockToken):])))
	if err != nil || pid <= 0 {
		return true
	}
	return syscall.Kill(pid, 0) == syscall.ESRCH
}
