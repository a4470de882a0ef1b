package ctrl

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/bbsmail/bbsmail/ctrl/ini"
)

// Load reads the control directory dir (ctrl/) and its sibling
// directories into a validated Config. The first problem found stops it
// with an *Error naming file, line and key. A missing sbbs.ini, main.ini,
// msgs.ini or list file means defaults and empty lists, as in Synchronet;
// a missing dir is an error wrapping fs.ErrNotExist (see Init).
func Load(dir string) (*Config, error) {
	ctrlDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("ctrl: %w", err)
	}
	fi, err := os.Stat(ctrlDir)
	if err != nil {
		return nil, fmt.Errorf("ctrl: control directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("ctrl: control directory %s is not a directory", ctrlDir)
	}
	c := &Config{}
	c.Paths.Ctrl = ctrlDir
	l := &loader{c: c, ctrl: ctrlDir, used: map[string]ini.Key{}}
	steps := []func() error{l.sbbsIni, l.mainIni, l.msgsIni, l.paths, l.fidonet, l.lists, l.aliases, l.dnsbl, l.check}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

type loader struct {
	c    *Config
	ctrl string
	main *ini.File // main.ini, nil when missing
	// used holds the sbbs.ini key each table entry was read from, for
	// errors about combinations of keys.
	used map[string]ini.Key
}

// rel names a file relative to the control directory for messages.
func (l *loader) rel(path string) string {
	if r, err := filepath.Rel(l.ctrl, path); err == nil {
		return r
	}
	return path
}

func (l *loader) notice(format string, args ...any) {
	l.c.Notices = append(l.c.Notices, fmt.Sprintf(format, args...))
}

func (l *loader) warn(format string, args ...any) {
	l.c.Warnings = append(l.c.Warnings, fmt.Sprintf(format, args...))
}

// readIni parses ctrl/name; a missing file is (nil, nil).
func (l *loader) readIni(path string) (*ini.File, error) {
	f, err := ini.ParseFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		var se *ini.SyntaxError
		if errors.As(err, &se) { // a missing !include target is fatal
			return nil, &Error{File: l.rel(se.File), Line: se.Line, Err: fmt.Errorf("%s: %w", se.Msg, se.Err)}
		}
		return nil, nil
	}
	var se *ini.SyntaxError
	if errors.As(err, &se) {
		e := &Error{File: l.rel(se.File), Line: se.Line, Err: errors.New(se.Msg)}
		if se.Err != nil {
			e.Err = fmt.Errorf("%s: %w", se.Msg, se.Err)
		}
		return nil, e
	}
	if err != nil {
		return nil, &Error{File: l.rel(path), Err: err}
	}
	return f, nil
}

// sbbsIniPath picks sbbs.<host>.ini over sbbs.ini, as Synchronet does.
func (l *loader) sbbsIniPath() string {
	if host, err := os.Hostname(); err == nil && host != "" {
		short, _, _ := strings.Cut(host, ".")
		for _, h := range []string{host, short} {
			p := filepath.Join(l.ctrl, "sbbs."+strings.ToLower(h)+".ini")
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	return filepath.Join(l.ctrl, "sbbs.ini")
}

func (l *loader) sbbsIni() error {
	path := l.sbbsIniPath()
	l.c.Paths.SBBSIni = path
	f, err := l.readIni(path)
	if err != nil {
		return err
	}
	if f == nil {
		l.warn("%s not found: using defaults", l.rel(path))
		f = &ini.File{Sections: []*ini.Section{{}}}
	}
	if err := l.unixSection(f); err != nil {
		return err
	}
	mail, global := f.Section("Mail"), f.Section("Global")
	for _, s := range []*ini.Section{mail, global} {
		if s != nil && len(s.Junk) > 0 {
			j := s.Junk[0]
			return &Error{File: l.rel(j.File), Line: j.Line, Section: s.Name,
				Err: fmt.Errorf("%w: %q", ini.ErrNoDelimiter, j.Value)}
		}
	}
	table := keyTable(&l.c.Mail)
	for _, def := range table {
		src := "default"
		k, ok := mail.Get(def.Name)
		sect := "Mail"
		if (!ok || k.Value == "") && def.Global != "" {
			k, ok = global.Get(def.Global)
			sect = "Global"
		}
		if !ok || k.Value == "" {
			if err := def.Value.Set(def.Default); err != nil {
				return fmt.Errorf("ctrl: default of %s: %w", def.Name, err) // a table bug
			}
		} else {
			if err := def.Value.Set(k.Value); err != nil {
				return &Error{File: l.rel(k.File), Line: k.Line, Section: sect, Key: def.Name, Err: err}
			}
			src = fmt.Sprintf("%s:%d [%s]", l.rel(k.File), k.Line, sect)
			l.used[def.Name] = k
		}
		l.c.settings = append(l.c.settings, Setting{Key: def.Name, Value: def.Value.String(), Source: src})
	}
	l.unknownKeys(mail, table)
	for _, name := range []string{"NewMailNotice", "ForwardNotice"} {
		if k, ok := l.used[name]; ok {
			l.notice("%s:%d: [Mail] %s: no effect in bbsmail (its new-mail telegrams have a fixed text)", l.rel(k.File), k.Line, name)
		}
	}
	if l.c.Mail.Options.Has(SMTPAuthViaIP) {
		k := l.used["Options"]
		l.notice("%s:%d: [Mail] Options: SMTP_AUTH_VIA_IP: no effect in bbsmail (it does not record where BBS users log on from): "+
			"list the client in relay.cfg or have it authenticate", l.rel(k.File), k.Line)
	}
	if l.c.Mail.RateLimitFilterSubnetThreshold < 1 {
		l.c.Mail.RateLimitFilterSubnetThreshold = 1
	}
	for _, name := range l.c.Mail.ignoredOptions {
		k := l.used["Options"]
		why := "unknown option ignored, as Synchronet ignores it"
		if r, ok := retiredOptions[strings.ToUpper(name)]; ok {
			why = r + ": no effect in bbsmail"
		}
		l.warn("%s:%d: [Mail] Options: %s: %s", l.rel(k.File), k.Line, name, why)
	}
	return nil
}

// unknownKeys warns about [Mail] keys nobody reads: usually a typo that
// would otherwise silently leave a default in force.
func (l *loader) unknownKeys(mail *ini.Section, table []keyDef) {
	if mail == nil {
		return
	}
	for _, k := range mail.Keys {
		known := false
		for _, def := range table {
			if strings.EqualFold(def.Name, k.Name) {
				known = true
				break
			}
		}
		if !known {
			l.warn("%s:%d: [Mail] %s: unknown key ignored", l.rel(k.File), k.Line, k.Name)
		}
	}
}

// paths resolves the directories: main.ini [dir] entries are relative to
// the control directory; TempDirectory from sbbs.ini likewise.
func (l *loader) paths() error {
	p := &l.c.Paths
	var dirs *ini.Section
	if l.main != nil {
		dirs = l.main.Section("dir")
	}
	resolve := func(v, def string) string {
		if v == "" {
			v = def
		}
		if !filepath.IsAbs(v) {
			v = filepath.Join(l.ctrl, v)
		}
		return filepath.Clean(v)
	}
	p.Data = resolve(dirs.Value("data"), "../data")
	p.Text = resolve(dirs.Value("text"), "../text")
	p.Exec = resolve(dirs.Value("exec"), "../exec")
	p.Mods = resolve(dirs.Value("mods"), "../mods")
	p.Logs = resolve(dirs.Value("logs"), p.Data)
	p.Temp = resolve(l.c.Mail.TempDirectory, "../temp")
	p.SSLCert = filepath.Join(l.ctrl, "ssl.cert")
	p.SSLKey = filepath.Join(l.ctrl, "ssl.key")
	return nil
}

// check validates combinations of settings. Synchronet turns RELAY_TX off
// when no RelayServer is set; we do the same and say so.
func (l *loader) check() error {
	m := &l.c.Mail
	if m.Options.Has(RelayTx) && m.RelayServer == "" {
		m.Options &^= RelayTx
		l.warn("sbbs.ini: [Mail] Options: RELAY_TX ignored because RelayServer is blank")
	}
	auth := 0
	for _, o := range []Options{RelayAuthPlain, RelayAuthLogin, RelayAuthCRAMMD5} {
		if m.Options.Has(o) {
			auth++
		}
	}
	if auth > 1 {
		k := l.used["Options"]
		return &Error{File: l.rel(k.File), Line: k.Line, Section: "Mail", Key: "Options",
			Err: errors.New("more than one of RELAY_AUTH_PLAIN, RELAY_AUTH_LOGIN and RELAY_AUTH_CRAM_MD5")}
	}
	if auth == 1 && m.RelayUsername == "" {
		l.warn("sbbs.ini: [Mail] RelayUsername is blank but a RELAY_AUTH option is set")
	}
	if l.c.System.InetAddr == "" {
		l.warn("msgs.ini: [Internet] addr is blank: the system has no mail domain")
	}
	return nil
}
