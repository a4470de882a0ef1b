package pattern

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"
)

// RecheckInterval is how long a File trusts its last look at the file
// before it looks again. A mail session checks a dozen lists per message,
// and a stat of each file for each check was a noticeable share of the
// server's CPU under load; a sysop's edit now takes effect within this
// time instead of at once. Entries added through Append, or after which
// Invalidate is called, are seen at the next check.
const RecheckInterval = time.Second

// File is a pattern list backed by a file that is re-read when its
// modification time or size changes, so a sysop's edit (or an automatic
// spamblock entry) takes effect without a restart: within RecheckInterval,
// or at the next check after Append or Invalidate. A missing file is an
// empty list. File is safe for concurrent use.
type File struct {
	path string

	mu      sync.Mutex
	list    *List
	modTime time.Time
	size    int64
	exists  bool
	loaded  bool
	err     error     // the last reload failure; the previous list stays in use
	checked time.Time // when the file was last looked at; zero: look at the next use
	now     func() time.Time
}

// NewFile returns a File for path; nothing is read until the first use.
func NewFile(path string) *File { return &File{path: path, now: time.Now} }

// OpenFile returns a File for path and reads it at once, so a syntax error
// is reported now rather than at the first match.
func OpenFile(path string) (*File, error) {
	f := NewFile(path)
	if _, err := f.List(); err != nil {
		return nil, err
	}
	return f, nil
}

// Path is the file name the list is read from.
func (f *File) Path() string { return f.path }

// List returns the current list, re-reading the file if it changed (looked
// at once per RecheckInterval). When a re-read fails, the previous list is
// returned with the error.
func (f *File) List() (*List, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	if f.loaded && !f.checked.IsZero() && now.Sub(f.checked) < RecheckInterval {
		return f.list, f.err
	}
	f.checked = now
	fi, err := os.Stat(f.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if !f.loaded || f.exists {
			f.list, f.exists, f.loaded, f.err = &List{}, false, true, nil
		}
		return f.list, nil
	case err != nil:
		f.err = fmt.Errorf("pattern: %w", err)
		return f.list, f.err
	}
	if f.loaded && f.exists && fi.ModTime().Equal(f.modTime) && fi.Size() == f.size {
		return f.list, f.err
	}
	l, err := f.read()
	if err != nil {
		// Remember the stamp so a broken file is not re-parsed on every
		// check; the last good list keeps serving.
		f.modTime, f.size, f.exists, f.err = fi.ModTime(), fi.Size(), true, err
		if f.list == nil {
			f.list = &List{}
		}
		f.loaded = true
		return f.list, err
	}
	f.list, f.modTime, f.size, f.exists, f.loaded, f.err = l, fi.ModTime(), fi.Size(), true, true, nil
	return l, nil
}

func (f *File) read() (*List, error) {
	fh, err := os.Open(f.path)
	if err != nil {
		return nil, fmt.Errorf("pattern: %w", err)
	}
	defer fh.Close()
	l, err := Parse(fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.path, err)
	}
	return l, nil
}

// Match reports whether the current list matches any of s. A read error
// leaves the previous list in force (see Err).
func (f *File) Match(s ...string) bool {
	l, _ := f.List()
	return l.Match(s...)
}

// Lookup is List.Lookup on the current list.
func (f *File) Lookup(now time.Time, s ...string) (Entry, bool) {
	l, _ := f.List()
	return l.Lookup(now, s...)
}

// Invalidate makes the next check look at the file again, for a caller
// that has just changed it by other means than Append.
func (f *File) Invalidate() {
	f.mu.Lock()
	f.checked = time.Time{}
	f.mu.Unlock()
}

// Err returns the error of the last reload, if it failed.
func (f *File) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// Append adds one entry line to the file (see the package-level Append).
// The next match sees it.
func (f *File) Append(line string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checked = time.Time{}
	return Append(f.path, line)
}

// Append appends line to the file at path, creating it if needed. The line
// (and a line break before it when the file does not end with one) goes out
// in a single O_APPEND write, so concurrent writers, including other
// programs doing the same, never interleave within a line.
func Append(path, line string) error {
	line = strings.TrimRight(line, "\r\n")
	if strings.ContainsAny(line, "\r\n") {
		return fmt.Errorf("pattern: append to %s: entry contains a line break", path)
	}
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("pattern: %w", err)
	}
	buf := []byte(line + "\n")
	if needsNewline(fh) {
		buf = append([]byte{'\n'}, buf...)
	}
	if _, err := fh.Write(buf); err != nil {
		fh.Close()
		return fmt.Errorf("pattern: append to %s: %w", path, err)
	}
	if err := fh.Close(); err != nil {
		return fmt.Errorf("pattern: append to %s: %w", path, err)
	}
	return nil
}

// needsNewline reports whether the file is non-empty and its last byte is
// not a line break (a sysop's editor may leave the last line open).
func needsNewline(fh *os.File) bool {
	fi, err := fh.Stat()
	if err != nil || fi.Size() == 0 {
		return false
	}
	b := make([]byte, 1)
	if _, err := fh.ReadAt(b, fi.Size()-1); err != nil {
		// Opened write-only: read through a second descriptor.
		r, err := os.Open(fh.Name())
		if err != nil {
			return false
		}
		defer r.Close()
		if _, err := r.ReadAt(b, fi.Size()-1); err != nil {
			return false
		}
	}
	return b[0] != '\n'
}

// FormatLine builds an entry line in the form Synchronet writes for
// automatic filter entries: the pattern, then TAB-separated t=, p=, r=, e=,
// u=, h= fields (empty ones left out; q= when Quiet). TABs and line breaks
// in values become spaces so the line stays one entry.
func FormatLine(pattern string, m Meta) string {
	clean := strings.NewReplacer("\t", " ", "\r", " ", "\n", " ")
	var b strings.Builder
	b.WriteString(clean.Replace(pattern))
	field := func(k, v string) {
		if v != "" {
			b.WriteString("\t" + k + "=" + clean.Replace(v))
		}
	}
	if !m.Added.IsZero() {
		field("t", FormatTime(m.Added))
	}
	field("p", m.Protocol)
	field("r", m.Reason)
	if !m.Expires.IsZero() {
		field("e", FormatTime(m.Expires))
	}
	field("u", m.User)
	field("h", m.Host)
	if m.Quiet {
		b.WriteString("\tq=1")
	}
	return b.String()
}
