package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/bbsmail/bbsmail/admin"
	"github.com/bbsmail/bbsmail/ctrl"
	"github.com/bbsmail/bbsmail/store"
)

// backupCmd writes a copy of the mailbase to file: through the running
// server's control socket (a read transaction, deliveries go on) or from
// the file itself. The copy is written next to file, synced, opened and
// checked, and only then renamed to file, so file is never half a copy.
func backupCmd(dir string, args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: bbsmail backup FILE")
		return 2
	}
	file, err := filepath.Abs(args[0])
	if err != nil {
		fmt.Fprintln(stderr, "bbsmail:", err)
		return 1
	}
	tmp := file + ".partial"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		fmt.Fprintln(stderr, "bbsmail backup:", err)
		return 1
	}
	defer os.Remove(tmp)
	code := adminCmd(dir, []string{"db", "backup"}, nil, f, stderr)
	if err := errors.Join(f.Sync(), f.Close()); err != nil && code == 0 {
		fmt.Fprintln(stderr, "bbsmail backup:", err)
		return 1
	}
	if code != 0 {
		return code
	}
	st, err := checkCopy(tmp)
	if err == nil {
		err = store.ReplaceFile(tmp, file)
	}
	if err != nil {
		fmt.Fprintf(stderr, "bbsmail backup: the copy is not usable: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: %d bytes, %d users, %d messages, %d queued\n", file, st.Bytes, st.Users, st.Messages, st.Queue)
	return 0
}

// checkCopy opens a mailbase copy and runs the consistency check on it.
func checkCopy(path string) (store.Stats, error) {
	db, err := store.Open(path, store.Options{LockTimeout: time.Second})
	if err != nil {
		return store.Stats{}, err
	}
	defer db.Close()
	if err := db.Check(); err != nil {
		return store.Stats{}, err
	}
	return db.Stats()
}

// restoreCmd puts a backup in place of the mailbase. The server must be
// stopped: the mailbase is held locked while the copy is swapped in, and
// the file it replaces is kept as bbsmail.db.before-restore.
func restoreCmd(dir string, args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: bbsmail restore FILE")
		return 2
	}
	cfg, err := ctrl.Load(dir)
	if err != nil {
		fmt.Fprintln(stderr, "bbsmail:", err)
		return 1
	}
	if err := restore(cfg, args[0], stdout); err != nil {
		fmt.Fprintln(stderr, "bbsmail restore:", err)
		return 1
	}
	return 0
}

func restore(cfg *ctrl.Config, from string, stdout io.Writer) error {
	if serverRunning(cfg) {
		return errors.New("the server is running: stop it first")
	}
	path := mailbasePath(cfg)
	tmp := path + ".restore"
	if err := copyFile(from, tmp); err != nil {
		return err
	}
	defer os.Remove(tmp)
	st, err := checkCopy(tmp)
	if err != nil {
		return fmt.Errorf("%s is not a usable mailbase: %w", from, err)
	}
	cur, err := openStore(cfg, time.Second) // holds the lock: no server may start meanwhile
	if errors.Is(err, store.ErrLocked) {
		return errors.New("the mailbase is in use: stop the server first")
	}
	if err != nil {
		return err
	}
	defer cur.Close()
	if err := matchOwner(tmp, path); err != nil {
		return err
	}
	old := path + ".before-restore"
	_ = os.Remove(old)
	if err := os.Link(path, old); err != nil {
		return fmt.Errorf("keeping the current mailbase: %w", err)
	}
	if err := store.ReplaceFile(tmp, path); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s: %d users, %d messages, %d queued (the previous mailbase is %s)\n",
		from, st.Users, st.Messages, st.Queue, old)
	return nil
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(dst, src)
	return errors.Join(err, dst.Sync(), dst.Close())
}

// serverRunning reports whether a server answers on the control socket;
// "status" is the cheapest request it answers.
func serverRunning(cfg *ctrl.Config) bool {
	_, err := admin.Forward(socketPath(cfg), []string{"status"}, nil, io.Discard, io.Discard)
	return err == nil
}

// maintCmd purges deleted and read kill-read mail (every read message
// with main.ini's Kill Read E-mail), through the server when it runs,
// then compacts the file when the server is stopped.
func maintCmd(dir string, args []string, stdout, stderr io.Writer) int {
	if len(args) != 0 {
		fmt.Fprintln(stderr, "usage: bbsmail maint")
		return 2
	}
	cfg, err := ctrl.Load(dir)
	if err != nil {
		fmt.Fprintln(stderr, "bbsmail:", err)
		return 1
	}
	purge := []string{"db", "purge"}
	if cfg.System.KillReadMail() {
		purge = append(purge, "--all-read")
	}
	if code := adminCmd(dir, purge, nil, stdout, stderr); code != 0 {
		return code
	}
	if serverRunning(cfg) {
		fmt.Fprintln(stdout, "compact skipped: the server is running (stop it and run bbsmail maint again to compact)")
		return 0
	}
	owner, _ := os.Stat(mailbasePath(cfg))
	before, after, err := store.Compact(mailbasePath(cfg), time.Second)
	if err == nil && owner != nil {
		err = chownLike(mailbasePath(cfg), owner)
	}
	if errors.Is(err, store.ErrLocked) {
		fmt.Fprintln(stdout, "compact skipped: the mailbase is in use")
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "bbsmail maint:", err)
		return 1
	}
	fmt.Fprintf(stdout, "compacted %s: %d bytes, was %d\n", mailbasePath(cfg), after, before)
	return 0
}

// statusCmd asks the running server for its status.
func statusCmd(dir string, stdout, stderr io.Writer) int {
	cfg, err := ctrl.Load(dir)
	if err != nil {
		fmt.Fprintln(stderr, "bbsmail:", err)
		return 1
	}
	code, err := admin.Forward(socketPath(cfg), []string{"status"}, nil, stdout, stderr)
	if errors.Is(err, admin.ErrNoServer) {
		fmt.Fprintf(stderr, "bbsmail: no server answers on %s\n", socketPath(cfg))
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, "bbsmail:", err)
		return 1
	}
	return code
}

// matchOwner gives path the owner and group of like when running as
// root: a mailbase root writes for a server that runs as the BBS user
// (systemd's User=, or after [UNIX] User) must stay that user's.
func matchOwner(path, like string) error {
	fi, err := os.Stat(like)
	if err != nil {
		return nil // nothing to match: a first mailbase
	}
	return chownLike(path, fi)
}

func chownLike(path string, like os.FileInfo) error {
	st, ok := like.Sys().(*syscall.Stat_t)
	if !ok || os.Geteuid() != 0 {
		return nil
	}
	return os.Chown(path, int(st.Uid), int(st.Gid))
}
