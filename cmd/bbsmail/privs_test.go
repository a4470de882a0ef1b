package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/bbsmail/bbsmail/ctrl"
)

func statOf(fi fs.FileInfo) string {
	st := fi.Sys().(*syscall.Stat_t)
	return fmt.Sprintf("%d:%d", st.Dev, st.Ino)
}

func TestPidFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sbbs.pid")
	remove, err := writePidFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if strings.TrimSpace(string(b)) != fmt.Sprint(os.Getpid()) {
		t.Errorf("PID file holds %q", b)
	}
	remove()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("PID file left behind: %v", err)
	}
	// A file another process has since taken over is not ours to remove.
	remove, _ = writePidFile(path)
	os.WriteFile(path, []byte("1\n"), 0o644)
	remove()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("removed another process's PID file: %v", err)
	}
}

func TestLookupIdentity(t *testing.T) {
	if os.Geteuid() != 0 {
		id, err := lookupIdentity(ctrl.Unix{User: "nobody"})
		if id != nil || err != nil {
			t.Errorf("non-root: %v, %v; want nothing to drop", id, err)
		}
		return
	}
	if _, err := lookupIdentity(ctrl.Unix{User: "no-such-user-here"}); err == nil || !strings.Contains(err.Error(), "[UNIX] User") {
		t.Errorf("unknown user: err = %v", err)
	}
	if _, err := lookupIdentity(ctrl.Unix{User: "nobody", Group: "no-such-group-here"}); err == nil || !strings.Contains(err.Error(), "[UNIX] Group") {
		t.Errorf("unknown group: err = %v", err)
	}
	if id, err := lookupIdentity(ctrl.Unix{User: "root"}); id != nil || err != nil {
		t.Errorf("User = root: %v, %v; want nothing to drop", id, err)
	}
}

func TestCheckRootMailProc(t *testing.T) {
	cfg := &ctrl.Config{}
	if err := checkRootMailProc(cfg, nil, 0); err != nil {
		t.Errorf("no processors: %v", err)
	}
	err := checkRootMailProc(cfg, nil, 1)
	if (os.Geteuid() == 0) != (err != nil) {
		t.Errorf("euid %d, one processor, no User: err = %v", os.Geteuid(), err)
	}
	if err := checkRootMailProc(cfg, &identity{uid: 65534}, 1); err != nil {
		t.Errorf("with a user to drop to: %v", err)
	}
	cfg.Unix.RootMailProcessors = true
	if err := checkRootMailProc(cfg, nil, 1); err != nil {
		t.Errorf("RootMailProcessors = true: %v", err)
	}
}
