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
	PidFile string
	// Daemonize is Synchronet's "run in background". bbsmail never forks
	// (systemd or the shell runs it in the background); as in Synchronet,
	// a daemonized server logs to the local syslog, with LogFacility and
	// LogIdent, instead of standard error.
	Daemonize bool
	// LogFacility is the syslog facility code (1 user, 2 mail, 16-23
	// local0-local7), 0 when not set; used only when Daemonize is on (and
	// for the priority under the journal).
	LogFacility int
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
	if k, ok := s.Get("LogFacility"); ok && strings.TrimSpace(k.Value) != "" {
		f, err := parseFacility(strings.TrimSpace(k.Value))
		if err != nil {
			return bad(k, err)
		}
		u.LogFacility = f
	}
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
	for name, dst := range map[string]*bool{"RootMailProcessors": &u.RootMailProcessors, "Daemonize": &u.Daemonize} {
		if k, ok := s.Get(name); ok && strings.TrimSpace(k.Value) != "" {
			v, err := ParseBool(strings.TrimSpace(k.Value))
			if err != nil {
				return bad(k, err)
			}
			*dst = v
		}
	}
	return nil
}

// Syslog facility codes (RFC 5424 section 6.2.1).
const (
	FacilityUser   = 1
	FacilityMail   = 2
	FacilityDaemon = 3
	FacilityLocal0 = 16
)

// parseFacility reads LogFacility. Synchronet's sbbscon looks at the first
// character only: a digit 0-7 is LOCAL0-LOCAL7, "S" (standard
// facilities) puts each server on its own facility (the mail server on
// MAIL), anything else is USER. bbsmail takes those forms ("User" and "U"
// for USER) and the syslog names (local0-local7, user, mail, daemon), and
// refuses anything else rather than logging somewhere the sysop did not
// mean: Synchronet would read "Local3" as USER.
func parseFacility(v string) (int, error) {
	l := strings.ToLower(v)
	switch {
	case len(l) == 1 && l[0] >= '0' && l[0] <= '7':
		return FacilityLocal0 + int(l[0]-'0'), nil
	case len(l) == 6 && strings.HasPrefix(l, "local") && l[5] >= '0' && l[5] <= '7':
		return FacilityLocal0 + int(l[5]-'0'), nil
	}
	switch l {
	case "u", "user":
		return FacilityUser, nil
	case "s", "standard", "mail":
		return FacilityMail, nil
	case "daemon":
		return FacilityDaemon, nil
	}
	return 0, fmt.Errorf("unknown syslog facility %q (want 0-7 for LOCAL0-LOCAL7, User, S, local0-local7, mail or daemon)", v)
}
