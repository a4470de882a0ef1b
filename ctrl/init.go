package ctrl

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"text/template"
)

//go:embed skel
var skel embed.FS

// Skeleton chooses the values written into a new control directory.
type Skeleton struct {
	Interface         string // [Global] Interface
	SMTPPort          int
	SubmissionPort    int
	TLSSubmissionPort int
	POP3Port          int
	TLSPOP3Port       int
	Options           string // [Mail] Options
	Domain            string // msgs.ini [Internet] addr
}

// DefaultSkeleton is a production layout on the standard ports.
func DefaultSkeleton() Skeleton {
	return Skeleton{
		Interface: "0.0.0.0,::",
		SMTPPort:  25, SubmissionPort: 587, TLSSubmissionPort: 465, POP3Port: 110, TLSPOP3Port: 995,
		Options: "ALLOW_POP3 | USE_SUBMISSION_PORT | TLS_SUBMISSION | TLS_POP3",
		Domain:  "bbs.localhost",
	}
}

// DemoSkeleton is the newcomer's layout: loopback only, unprivileged ports
// (2525, 2587, 2465, 2110, 2995) and the domain bbs.localhost. Change any
// field before passing it to InitWith.
func DemoSkeleton() Skeleton {
	s := DefaultSkeleton()
	s.Interface = "127.0.0.1"
	s.SMTPPort, s.SubmissionPort, s.TLSSubmissionPort, s.POP3Port, s.TLSPOP3Port = 2525, 2587, 2465, 2110, 2995
	return s
}

// Init creates a BBS tree around the control directory ctrlDir from the
// embedded defaults (DefaultSkeleton).
func Init(ctrlDir string) error { return InitWith(ctrlDir, DefaultSkeleton()) }

// InitDemo creates a BBS tree for a first local run (DemoSkeleton).
func InitDemo(ctrlDir string) error { return InitWith(ctrlDir, DemoSkeleton()) }

// InitWith creates ctrlDir with a commented sbbs.ini, main.ini, msgs.ini
// and empty list files, and the sibling text/ (commented .can files),
// data/user/, temp/, exec/ and mods/ directories. Existing files are never
// overwritten, so it is safe on a partly populated tree.
func InitWith(ctrlDir string, s Skeleton) error {
	if err := s.validate(); err != nil {
		return err
	}
	root := filepath.Dir(filepath.Clean(ctrlDir))
	for _, d := range []string{filepath.Join("data", "user"), "temp", "exec", "mods", "text"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return fmt.Errorf("ctrl: init: %w", err)
		}
	}
	if err := os.MkdirAll(ctrlDir, 0o755); err != nil {
		return fmt.Errorf("ctrl: init: %w", err)
	}
	return fs.WalkDir(skel, "skel", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel := strings.TrimPrefix(p, "skel/")
		dir, name := path.Split(rel)
		dst := filepath.Join(root, filepath.FromSlash(dir), strings.TrimSuffix(name, ".tmpl"))
		if dir == "ctrl/" {
			dst = filepath.Join(ctrlDir, strings.TrimSuffix(name, ".tmpl"))
		}
		body, err := render(p, s)
		if err != nil {
			return err
		}
		return writeNew(dst, body)
	})
}

func (s Skeleton) validate() error {
	for _, p := range []int{s.SMTPPort, s.SubmissionPort, s.TLSSubmissionPort, s.POP3Port, s.TLSPOP3Port} {
		if p < 0 || p > 65535 {
			return fmt.Errorf("ctrl: init: port %d out of range", p)
		}
	}
	if err := (ifaceV{new([]string)}).Set(s.Interface); err != nil {
		return fmt.Errorf("ctrl: init: %w", err)
	}
	if _, err := ParseOptions(s.Options); err != nil {
		return fmt.Errorf("ctrl: init: %w", err)
	}
	if !validZone(s.Domain) && s.Domain != "localhost" {
		return fmt.Errorf("ctrl: init: invalid domain %q", s.Domain)
	}
	return nil
}

func render(p string, s Skeleton) ([]byte, error) {
	b, err := skel.ReadFile(p)
	if err != nil || !strings.HasSuffix(p, ".tmpl") {
		return b, err
	}
	t, err := template.New(path.Base(p)).Option("missingkey=error").Parse(string(b))
	if err != nil {
		return nil, fmt.Errorf("ctrl: init: %s: %w", p, err)
	}
	var out bytes.Buffer
	if err := t.Execute(&out, s); err != nil {
		return nil, fmt.Errorf("ctrl: init: %s: %w", p, err)
	}
	return out.Bytes(), nil
}

// writeNew creates path with body unless it already exists.
func writeNew(path string, body []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("ctrl: init: %w", err)
	}
	if _, err := f.Write(body); err != nil {
		f.Close()
		return fmt.Errorf("ctrl: init: %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("ctrl: init: %s: %w", path, err)
	}
	return nil
}
