package mailproc

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"syscall"
)

// errOutside is the reason a script may not reach a file: it lies outside
// the BBS directories, it is one of the server's own files, or (for a
// change) it is in the control directory.
var errOutside = errors.New("outside what mail processor scripts may reach")

// jsFS is the part of the file system a JavaScript processor reaches:
// the BBS directories (ctrl read-only; data, text, exec, mods and temp),
// less the server's own files (Config.Private). Scripts build file names
// from what clients send (a list name from a recipient address, a file
// from a subject), so a name such as "../../etc/passwd", an absolute path
// or a symlink planted to lead outside must not take them anywhere else.
// Every access goes through an os.Root for its directory, which refuses
// ".." and symlinks that leave it, without a race between check and use.
type jsFS struct {
	roots   []*fsRoot // the most specific (longest) directory first
	private []string  // absolute, cleaned
	privFI  []os.FileInfo
	log     *slog.Logger
}

type fsRoot struct {
	dir      string // absolute, cleaned
	readOnly bool
	root     *os.Root // opened on first use
	err      error
}

func newJSFS(cfg *Config, log *slog.Logger) *jsFS {
	j := &jsFS{log: log}
	add := func(dir string, readOnly bool) {
		if dir == "" {
			return
		}
		abs := absPath(dir)
		for _, r := range j.roots {
			if r.dir == abs {
				r.readOnly = r.readOnly && readOnly
				return
			}
		}
		j.roots = append(j.roots, &fsRoot{dir: abs, readOnly: readOnly})
	}
	add(cfg.CtrlDir, true)
	for _, d := range []string{cfg.DataDir, cfg.TextDir, cfg.ExecDir, cfg.ModsDir, cfg.TempDir} {
		add(d, false)
	}
	slices.SortStableFunc(j.roots, func(a, b *fsRoot) int { return len(b.dir) - len(a.dir) })
	for _, p := range cfg.Private {
		j.private = append(j.private, absPath(p))
		if fi, err := os.Stat(p); err == nil {
			j.privFI = append(j.privFI, fi)
		}
	}
	return j
}

// close releases the directories opened for one run.
func (j *jsFS) close() {
	for _, r := range j.roots {
		if r.root != nil {
			_ = r.root.Close()
			r.root = nil
		}
	}
}

// locate finds the directory that holds name and name's path inside it.
// write asks for a change (create, write, remove, rename).
func (j *jsFS) locate(op, name string, write bool) (*fsRoot, string, error) {
	abs := absPath(name)
	deny := func() (*fsRoot, string, error) {
		j.log.Warn("!Mail processor script may not reach a file", "op", op, "file", name)
		return nil, "", &fs.PathError{Op: op, Path: name, Err: fmt.Errorf("%w: %w", errOutside, syscall.EACCES)}
	}
	if slices.Contains(j.private, abs) {
		return deny()
	}
	for _, r := range j.roots {
		if !under(abs, []string{r.dir}) {
			continue
		}
		if write && r.readOnly {
			return deny()
		}
		if r.root == nil && r.err == nil {
			r.root, r.err = os.OpenRoot(r.dir)
		}
		if r.err != nil {
			return nil, "", &fs.PathError{Op: op, Path: name, Err: r.err}
		}
		rel, err := filepath.Rel(r.dir, abs)
		if err != nil {
			return deny()
		}
		if j.isPrivate(r.root, rel) {
			return deny()
		}
		return r, rel, nil
	}
	return deny()
}

// isPrivate reports whether rel is one of the server's own files under
// another name (a link inside the same directory).
func (j *jsFS) isPrivate(root *os.Root, rel string) bool {
	if len(j.privFI) == 0 {
		return false
	}
	fi, err := root.Stat(rel)
	if err != nil {
		return false
	}
	for _, p := range j.privFI {
		if os.SameFile(fi, p) {
			return true
		}
	}
	return false
}

func (j *jsFS) openFile(name string, flags int, perm os.FileMode) (*os.File, error) {
	write := flags&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND) != 0
	r, rel, err := j.locate("open", name, write)
	if err != nil {
		return nil, err
	}
	return r.root.OpenFile(rel, flags, perm)
}

func (j *jsFS) stat(name string) (os.FileInfo, error) {
	r, rel, err := j.locate("stat", name, false)
	if err != nil {
		return nil, err
	}
	return r.root.Stat(rel)
}

func (j *jsFS) readFile(name string) ([]byte, error) {
	r, rel, err := j.locate("read", name, false)
	if err != nil {
		return nil, err
	}
	return r.root.ReadFile(rel)
}

func (j *jsFS) remove(name string) error {
	r, rel, err := j.locate("remove", name, true)
	if err != nil {
		return err
	}
	return r.root.Remove(rel)
}

// rename moves a file within one BBS directory; between two of them it
// fails as a rename between file systems does (EXDEV), which scripts
// already handle.
func (j *jsFS) rename(from, to string) error {
	r1, rel1, err := j.locate("rename", from, true)
	if err != nil {
		return err
	}
	r2, rel2, err := j.locate("rename", to, true)
	if err != nil {
		return err
	}
	if r1 != r2 {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: syscall.EXDEV}
	}
	return r1.root.Rename(rel1, rel2)
}

// mkdirAll creates a directory (and its parents) inside a writable BBS
// directory.
func (j *jsFS) mkdirAll(name string) error {
	r, rel, err := j.locate("mkdir", name, true)
	if err != nil {
		return err
	}
	if rel == "." {
		return nil
	}
	return r.root.MkdirAll(rel, 0o755)
}
