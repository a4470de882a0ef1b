package ctrl

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/bbsmail/bbsmail/ctrl/ini"
)

// Unix holds sbbs.ini [UNIX], the keys Synchronet's sbbscon reads about the
// process itself. Empty strings mean "not set".
type Unix struct {
	User  string // drop to this user after the listeners are bound
	Group string // and this group; blank: the user's primary group
	// Umask is the file creation mask; -1 leaves the inherited one.
	Umask int
	// PidFile is the absolute path of the PID file; relative names are
	// relative to the control directory.
	PidFile     string
	LogFacility string // syslog facility: with it, log lines lose their timestamp
	LogIdent    string
	// RootMailProcessors lets the server run mail processors as root.
	// bbsmail-only key: without it, root with mailproc.ini entries and no
	// User refuses to start.
	RootMailProcessors bool
}

// unixSection reads [UNIX] from the parsed sbbs.ini (f may be nil).
func (l *loader) unixSection(f *ini.File) error {
	u := &l.c.Unix
	u.Umask = -1
	var s *ini.Section
	if f != nil {
		s = f.Section("UNIX")
	}
	if s == nil {
		return nil
	}
	bad := func(k ini.Key, err error) error {
		return &Error{File: l.rel(k.File), Line: k.Line, Section: "UNIX", Key: k.Name, Err: err}
	}
	u.User = strings.TrimSpace(s.Value("User"))
	u.Group = strings.TrimSpace(s.Value("Group"))
	u.LogFacility = strings.TrimSpace(s.Value("LogFacility"))
	u.LogIdent = strings.TrimSpace(s.Value("LogIdent"))
	if k, ok := s.Get("umask"); ok && strings.TrimSpace(k.Value) != "" {
		v, err := strconv.ParseUint(strings.TrimSpace(k.Value), 8, 32)
		if err != nil || v > 0o777 {
			return bad(k, fmt.Errorf("invalid octal mask %q", k.Value))
		}
		u.Umask = int(v)
	}
	if p := strings.TrimSpace(s.Value("PidFile")); p != "" {
		if !filepath.IsAbs(p) {
			p = filepath.Join(l.ctrl, p)
		}
		u.PidFile = filepath.Clean(p)
	}
	if k, ok := s.Get("RootMailProcessors"); ok && strings.TrimSpace(k.Value) != "" {
		v, err := ParseBool(strings.TrimSpace(k.Value))
		if err != nil {
			return bad(k, err)
		}
		u.RootMailProcessors = v
	}
	return nil
}
