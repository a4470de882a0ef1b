package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/bbsmail/bbsmail/ctrl"
)

// identity is the user and group [UNIX] User and Group name, resolved
// before anything is bound so a typo stops the server at once.
type identity struct {
	name     string
	uid, gid int
}

// lookupIdentity resolves [UNIX] User and Group. It returns nil when no
// User is set or the process is not root (then there is nothing to drop;
// a non-root sysop runs the server as themself).
func lookupIdentity(u ctrl.Unix) (*identity, error) {
	if u.User == "" || os.Geteuid() != 0 {
		return nil, nil
	}
	usr, err := lookupUser(u.User)
	if err != nil {
		return nil, fmt.Errorf("sbbs.ini [UNIX] User: %w", err)
	}
	id := &identity{name: usr.Username}
	id.uid, _ = strconv.Atoi(usr.Uid)
	id.gid, _ = strconv.Atoi(usr.Gid)
	if u.Group != "" {
		g, err := lookupGroup(u.Group)
		if err != nil {
			return nil, fmt.Errorf("sbbs.ini [UNIX] Group: %w", err)
		}
		id.gid, _ = strconv.Atoi(g.Gid)
	}
	if id.uid == 0 {
		return nil, nil // User = root: nothing to drop
	}
	return id, nil
}

func lookupUser(name string) (*user.User, error) {
	if _, err := strconv.Atoi(name); err == nil {
		if u, err := user.LookupId(name); err == nil {
			return u, nil
		}
	}
	return user.Lookup(name)
}

func lookupGroup(name string) (*user.Group, error) {
	if _, err := strconv.Atoi(name); err == nil {
		if g, err := user.LookupGroupId(name); err == nil {
			return g, nil
		}
	}
	return user.LookupGroup(name)
}

// applyUmask sets [UNIX] umask before the server creates any file.
func applyUmask(u ctrl.Unix) {
	if u.Umask >= 0 {
		syscall.Umask(u.Umask)
	}
}

// chownTree gives the server's writable directories to the user it is
// about to become: everything bbsmail creates lives there, and after the
// drop it must still write there. Symbolic links are changed themselves,
// never followed.
func chownTree(id *identity, dirs ...string) error {
	seen := map[string]bool{}
	for _, dir := range dirs {
		if dir == "" || seen[dir] {
			continue
		}
		seen[dir] = true
		err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(p, id.uid, id.gid)
		})
		if err != nil {
			return fmt.Errorf("giving %s to %s: %w", dir, id.name, err)
		}
	}
	return nil
}

// dropPrivileges makes every thread of the process id's user and group,
// with no supplementary groups. Go applies these calls to all threads.
// The order matters: groups while still root, the user last.
func dropPrivileges(id *identity) error {
	if err := syscall.Setgroups(nil); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := syscall.Setgid(id.gid); err != nil {
		return fmt.Errorf("setgid %d: %w", id.gid, err)
	}
	if err := syscall.Setuid(id.uid); err != nil {
		return fmt.Errorf("setuid %d: %w", id.uid, err)
	}
	// Make sure there is no way back.
	if err := syscall.Setuid(0); err == nil {
		return errors.New("still able to become root after dropping privileges")
	}
	return nil
}

// errRootMailProc explains why root with mail processors does not start.
var errRootMailProc = errors.New("mail processors are configured and the server would run them as root: " +
	"set [UNIX] User (and Group) in sbbs.ini, or RootMailProcessors = true to accept the risk")

// writePidFile writes [UNIX] PidFile; the returned function removes it if
// it is still ours (it may be gone or, after the drop, not removable).
func writePidFile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	pid := strconv.Itoa(os.Getpid())
	if err := os.WriteFile(path, []byte(pid+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("sbbs.ini [UNIX] PidFile: %w", err)
	}
	return func() {
		if b, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(b)) == pid {
			_ = os.Remove(path)
		}
	}, nil
}

// checkRootMailProc refuses root with mail processors and no user to
// drop to: every processor would run as root on mail from strangers.
func checkRootMailProc(cfg *ctrl.Config, id *identity, procs int) error {
	if procs == 0 || id != nil || os.Geteuid() != 0 || cfg.Unix.RootMailProcessors {
		return nil
	}
	return errRootMailProc
}

// becomeUser writes the PID file, then, when running as root with [UNIX]
// User set, gives data/, temp/ and logs/ to that user and drops to it.
// Every listener, the mailbase, the control socket and the TLS keys are
// open by now and stay usable.
func (s *server) becomeUser(cfg *ctrl.Config, id *identity) (func(), error) {
	removePid, err := writePidFile(cfg.Unix.PidFile)
	if err != nil || id == nil {
		return removePid, err
	}
	if err := chownTree(id, cfg.Paths.Data, cfg.Paths.Temp, cfg.Paths.Logs); err != nil {
		removePid()
		return nil, err
	}
	if err := dropPrivileges(id); err != nil {
		removePid()
		return nil, err
	}
	notice(s.log, fmt.Sprintf("running as user %s (uid %d, gid %d)", id.name, id.uid, id.gid))
	return removePid, nil
}
