package ini

import (
	"github.com/bbsmail/bbsmail/ctrl/cescape"

	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// maxIncludeDepth bounds !include nesting so a file that includes itself
// fails with an error instead of recursing forever.
const maxIncludeDepth = 8

// Key is one "name = value" line. File and Line say where it was read, so a
// caller can report a bad value precisely.
type Key struct {
	Name  string // as written, trimmed
	Value string // trimmed; for the literal form (name : "v") unquoted and unescaped
	File  string // the file it came from (an !include may differ from the main file)
	Line  int    // 1-based
}

// Section is one [name] block. The root section (keys before the first
// header) has an empty Name.
type Section struct {
	Name string // as written between the brackets, trimmed
	File string
	Line int
	Keys []Key
	// Junk holds lines inside the section that are neither comments nor
	// key/value pairs. Synchronet ignores them; callers may reject them.
	Junk []Key
}

// File is a parsed ini file: its sections in file order.
type File struct {
	Sections []*Section
}

// SyntaxError reports a line the parser cannot accept at all.
type SyntaxError struct {
	File string
	Line int
	Msg  string
	Err  error // underlying cause, e.g. a failed !include
}

func (e *SyntaxError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s:%d: %s: %v", e.File, e.Line, e.Msg, e.Err)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

func (e *SyntaxError) Unwrap() error { return e.Err }

// ParseFile reads path. A missing file is reported with an error wrapping
// fs.ErrNotExist so the caller can decide whether that is fatal.
func ParseFile(path string) (*File, error) {
	p := &parser{f: &File{}}
	p.cur = p.root()
	if err := p.readFile(path, "", 0, 0); err != nil {
		return nil, err
	}
	return p.f, nil
}

// Parse reads an ini document from r. name is used in errors and Key.File;
// !include paths are resolved relative to the directory of name.
func Parse(r io.Reader, name string) (*File, error) {
	p := &parser{f: &File{}}
	p.cur = p.root()
	if err := p.read(r, name, 0); err != nil {
		return nil, err
	}
	return p.f, nil
}

type parser struct {
	f   *File
	cur *Section
}

func (p *parser) root() *Section {
	s := &Section{}
	p.f.Sections = append(p.f.Sections, s)
	return s
}

func (p *parser) readFile(path, from string, fromLine, depth int) error {
	fh, err := os.Open(path)
	if err != nil {
		if from == "" {
			return fmt.Errorf("ini: %w", err)
		}
		return &SyntaxError{File: from, Line: fromLine, Msg: "!include " + filepath.Base(path), Err: err}
	}
	defer fh.Close()
	return p.read(fh, path, depth)
}

func (p *parser) read(r io.Reader, name string, depth int) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
		}
		text := strings.TrimSpace(string(line))
		stop, err := p.line(text, name, n, depth)
		if err != nil {
			return err
		}
		if stop {
			return nil
		}
	}
	if err := sc.Err(); err != nil {
		return &SyntaxError{File: name, Line: n + 1, Msg: "read failed", Err: err}
	}
	return nil
}

// line handles one trimmed line; stop is true at !eof.
func (p *parser) line(text, name string, n, depth int) (stop bool, err error) {
	switch {
	case text == "" || text[0] == ';':
		// ';' is a comment only at line start: "Password = abc;123" keeps it.
		return false, nil
	case text[0] == '!':
		return p.directive(text, name, n, depth)
	case text[0] == '[':
		end := strings.IndexByte(text, ']')
		if end < 0 {
			return false, &SyntaxError{File: name, Line: n, Msg: fmt.Sprintf("section header without ']': %q", text)}
		}
		// Text after ']' is a description Synchronet's own files use
		// ("[Mail]	SMTP(S)/POP3(S) Mail Server"); it is ignored.
		sname := strings.TrimSpace(text[1:end])
		if sname == "" {
			return false, &SyntaxError{File: name, Line: n, Msg: "empty section name"}
		}
		p.cur = &Section{Name: sname, File: name, Line: n}
		p.f.Sections = append(p.f.Sections, p.cur)
		return false, nil
	}
	k, ok := splitKey(text)
	k.File, k.Line = name, n
	if !ok {
		p.cur.Junk = append(p.cur.Junk, k)
		return false, nil
	}
	p.cur.Keys = append(p.cur.Keys, k)
	return false, nil
}

func (p *parser) directive(text, name string, n, depth int) (bool, error) {
	word, arg, _ := strings.Cut(text, " ")
	if i := strings.IndexByte(word, '\t'); i >= 0 {
		word, arg = word[:i], word[i+1:]+" "+arg
	}
	arg = strings.TrimSpace(arg)
	switch strings.ToLower(word) {
	case "!eof":
		return true, nil
	case "!include":
		if arg == "" {
			return false, &SyntaxError{File: name, Line: n, Msg: "!include without a file name"}
		}
		if depth >= maxIncludeDepth {
			return false, &SyntaxError{File: name, Line: n, Msg: "!include nested too deeply"}
		}
		path := arg
		if !filepath.IsAbs(path) {
			path = filepath.Join(filepath.Dir(name), path)
		}
		return false, p.readFile(path, name, n, depth+1)
	}
	return false, &SyntaxError{File: name, Line: n, Msg: fmt.Sprintf("unknown directive %q", word)}
}

// splitKey splits "name = value" or the literal form "name : value". The
// delimiter is whichever of '=' and ':' comes first, as in Synchronet.
func splitKey(text string) (Key, bool) {
	i := strings.IndexAny(text, "=:")
	if i <= 0 {
		return Key{Value: text}, false
	}
	k := Key{Name: strings.TrimSpace(text[:i]), Value: strings.TrimSpace(text[i+1:])}
	if text[i] == ':' {
		k.Value = literal(k.Value)
	}
	return k, true
}

// literal strips one pair of surrounding double quotes and decodes C
// escapes, the meaning Synchronet gives to "name : value".
func literal(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	return cescape.Unescape(v)
}

// Section returns the first section whose name matches (case-insensitive),
// or nil. Synchronet reads only the first of duplicate sections. A header
// may list alternative names separated by '|' ("[Mail|SMTP]").
func (f *File) Section(name string) *Section {
	for _, s := range f.Sections[1:] {
		if sectionMatch(s.Name, name) {
			return s
		}
	}
	return nil
}

// Root returns the keys before the first section header.
func (f *File) Root() *Section { return f.Sections[0] }

// SectionsWithPrefix returns, in file order, the sections whose names begin
// with prefix (case-insensitive), e.g. "sub:" in msgs.ini.
func (f *File) SectionsWithPrefix(prefix string) []*Section {
	var out []*Section
	for _, s := range f.Sections[1:] {
		if len(s.Name) >= len(prefix) && strings.EqualFold(s.Name[:len(prefix)], prefix) {
			out = append(out, s)
		}
	}
	return out
}

func sectionMatch(header, name string) bool {
	for alt := range strings.SplitSeq(header, "|") {
		if strings.EqualFold(strings.TrimSpace(alt), name) {
			return true
		}
	}
	return false
}

// Get returns the first key named name (case-insensitive): the first of
// duplicate keys wins, as in Synchronet. A nil section has no keys.
func (s *Section) Get(name string) (Key, bool) {
	if s == nil {
		return Key{}, false
	}
	for _, k := range s.Keys {
		if strings.EqualFold(k.Name, name) {
			return k, true
		}
	}
	return Key{}, false
}

// Value returns the value of the first key named name, or "".
func (s *Section) Value(name string) string {
	k, _ := s.Get(name)
	return k.Value
}

// ErrNoDelimiter is wrapped by callers that reject junk lines.
var ErrNoDelimiter = errors.New("line is not \"key = value\"")
