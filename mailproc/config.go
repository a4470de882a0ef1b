package mailproc

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/bbsmail/bbsmail/ctrl/ini"
	"github.com/bbsmail/bbsmail/ctrl/pattern"
)

// DefaultTimeout bounds one processor run when Config.Timeout is zero.
const DefaultTimeout = 5 * time.Minute

// Config is what the wiring hands to Load: where the BBS tree is, which
// machine this is (for the choice of file), the system's names for the
// command-line specifiers and the JavaScript system object, and the
// collaborators mailproc cannot know itself. Only CtrlDir is required.
type Config struct {
	// CtrlDir holds mailproc*.ini; TempDir receives the SBBS_SMTP.* files
	// (it is created when missing). ExecDir and ModsDir hold JavaScript
	// processors (mods first); DataDir and TextDir only feed %j and %z.
	CtrlDir, TempDir, DataDir, TextDir, ExecDir, ModsDir string
	// SpamLog is the spam.log the server writes, for the scripts' spamlog
	// (main.ini's logs directory); empty means DataDir/spam.log. It is
	// opened through the scripts' file sandbox, so a logs directory
	// outside the BBS directories is not reached.
	SpamLog string
	// FQDN and Host name this machine: mailproc.<fqdn>.ini and
	// mailproc.<host>.ini are preferred to mailproc.ini. Platform is the
	// platform part (mailproc.linux.ini, %?); empty means runtime.GOOS.
	FQDN, Host, Platform string
	// System names the BBS (specifiers %o %q %v and the JavaScript system
	// object).
	System System
	// Timeout bounds each processor run (native or JavaScript); a processor
	// still running then is stopped and counts as failed. Zero means
	// DefaultTimeout.
	Timeout time.Duration
	// MaxRecipients caps the recipient list read back from processors
	// ([Mail] MaxRecipients); 0 means no cap.
	MaxRecipients int
	// ARS compiles a processor's AccessRequirements into a check of who is
	// sending. Load calls it once per restricted processor; its error
	// stops Load with the file, line and key. When ARS is nil, a processor
	// with AccessRequirements never runs and Load warns about it: the
	// sysop restricted it, and running it for everyone would be wrong.
	ARS func(ars string) (func(Access) bool, error)
	// KnownUser reports whether a user number may receive mail. Recipient
	// list entries that processors add for other numbers are reported as
	// unusable instead of failing the whole delivery. Nil accepts any
	// number above 0.
	KnownUser func(user uint32) bool
	// Private lists the server's own files inside the BBS directories
	// (the mailbase, its key, the TLS key, the control socket) that
	// JavaScript processors may not open, rename or remove.
	Private []string
	// Logger receives what processors log and what mailproc logs about
	// them; nil discards it. Input.Logger overrides it for one run.
	Logger *slog.Logger

	// KeepMessage (DEBUG_RX_BODY) leaves each received message in TempDir
	// as its SBBS_<protocol>.<id>.msg file, whether or not a processor
	// ran; the sysop deletes them.
	KeepMessage bool

	// User describes an authenticated sender to a script (the JavaScript
	// user object); nil or false: only its number is known.
	User func(number uint32) (UserInfo, bool)
	// LookupIP resolves a host name for resolve_ip() through the server's
	// DNS server; nil: resolve_ip() answers null.
	LookupIP func(ctx context.Context, host string) ([]string, error)
	// Interfaces are the addresses the server listens on
	// (server.interface_ip_addr_list).
	Interfaces []string
	// JSMaxBytes bounds the memory a JavaScript processor may take
	// (JavaScriptMaxBytes); 0: no bound. JSTimeLimit bounds its run
	// (JavaScriptTimeLimit) below Timeout; 0: Timeout alone.
	JSMaxBytes  int64
	JSTimeLimit time.Duration
	// Boards gives scripts MsgBase over the mailbase; nil: MsgBase.open()
	// fails. Subs are the sub-boards (msg_area.sub, MsgBase codes).
	Boards Boards
	Subs   []SubInfo
}

// UserInfo is a BBS user as a script sees it (the user object).
type UserInfo struct {
	Number       uint32
	Alias, Name  string
	NetMail      string
	Level        int
	Flags1       string // letters A-Z
	Restrictions string // letters A-Z
	Exemptions   string // letters A-Z
}

// System is what processors may learn about the BBS.
type System struct {
	Name     string // the BBS name (system.name)
	Operator string // the sysop's name (%o, system.operator)
	QWKID    string // %q, system.qwk_id
	InetAddr string // the system's Internet address (system.inet_addr)
	Version  string // %v, system.version
}

// Access is who is sending, as AccessRequirements see it.
type Access struct {
	User     uint32 // the authenticated user's number; 0 when not logged in
	IP       string // the client's address
	Host     string // the client's host name ("<no name>" when unknown)
	Protocol string // "SMTPS" on a TLS connection, else "SMTP"
}

func protocol(tls bool) string {
	if tls {
		return "SMTPS"
	}
	return "SMTP"
}

// Processor is one section of mailproc.ini.
type Processor struct {
	// Name is the section name; it names the processor in logs and in
	// envelope.Rcpt.Processors.
	Name string
	// Command is the command line (the section name when the key is
	// absent); Eval is inline JavaScript, which takes precedence.
	Command, Eval string
	// To and From are the comma-separated pattern lists as written; nil
	// lists (the keys absent or empty) match everything.
	To, From []string
	// PassThru=false means the processor consumes the message.
	PassThru bool
	// Native runs Command through /bin/sh; otherwise it is JavaScript.
	Native bool
	// IgnoreOnError: a native processor's failure silently drops the
	// message (it is accepted with 250 and stored nowhere).
	IgnoreOnError bool
	Disabled      bool
	// ProcessSPAM=false skips spam (tagged, or the last RCPT was bait);
	// ProcessDNSBL=false skips mail from DNS-blacklisted clients.
	ProcessSPAM, ProcessDNSBL bool
	// AccessRequirements is an ARS checked against the sender's user number.
	AccessRequirements string
	// File and Line say where the section starts.
	File string
	Line int

	to, from *pattern.List
	allow    func(Access) bool // compiled AccessRequirements; nil: never
	cmdLine  int               // where Command (or Eval) is, for warnings
	cmdKey   string
}

// Set is the loaded mailproc.ini: the processors in file order and what
// running them needs. It is immutable and safe for concurrent use; a nil
// *Set has no processors.
type Set struct {
	cfg    Config
	file   string
	procs  []Processor
	events sync.Mutex // serialises scripts' event passes (runJS)
}

// Warning is a problem in mailproc.ini that does not stop the server: an
// unknown key, a duplicate section, a restriction that cannot be checked.
type Warning struct {
	File    string
	Line    int
	Section string
	Key     string
	Msg     string
}

func (w Warning) String() string {
	return (&Error{File: w.File, Line: w.Line, Section: w.Section, Key: w.Key, Err: errors.New(w.Msg)}).Error()
}

// Error is a mailproc.ini problem that stops startup. It names the file
// (relative to the control directory), the line and, where there is one,
// the section and key, as ctrl.Error does (it is the same type):
//
//	mailproc.ini:52: [ListServer] PassThru: invalid boolean "maybe" (want true or false)
type Error = ini.KeyError

// Candidates returns the files Load considers, most specific first:
// mailproc.<fqdn>.ini, mailproc.<host>.ini, mailproc.<platform>.ini,
// mailproc.local.ini and mailproc.ini in the control directory. The wiring
// may watch them all: a new, more specific file changes the choice.
func Candidates(cfg Config) []string {
	var names []string
	add := func(part string) {
		if part == "" || strings.ContainsAny(part, `/\`) {
			return // not a name that can be part of a file name
		}
		n := "mailproc." + part + ".ini"
		for _, have := range names {
			if have == n {
				return
			}
		}
		names = append(names, n)
	}
	add(cfg.FQDN)
	add(cfg.Host)
	add(cfg.platform())
	add("local")
	names = append(names, "mailproc.ini")
	paths := make([]string, len(names))
	for i, n := range names {
		paths[i] = filepath.Join(cfg.CtrlDir, n)
	}
	return paths
}

func (cfg Config) platform() string {
	if cfg.Platform != "" {
		return strings.ToLower(cfg.Platform)
	}
	return runtime.GOOS
}

func (cfg Config) timeout() time.Duration {
	if cfg.Timeout > 0 {
		return cfg.Timeout
	}
	return DefaultTimeout
}

// jsTimeout bounds a JavaScript processor: Timeout, or JSTimeLimit when
// that is shorter.
func (cfg Config) jsTimeout() time.Duration {
	if t := cfg.timeout(); cfg.JSTimeLimit <= 0 || cfg.JSTimeLimit > t {
		return t
	}
	return cfg.JSTimeLimit
}

// Load reads the first existing file of Candidates(cfg). No file means no
// processors, which is not an error. A malformed file, a key with an
// unusable value or a bad pattern is an *Error naming the file, line and
// key. Warnings report what is accepted but ignored.
func Load(cfg Config) (*Set, []Warning, error) {
	s := &Set{cfg: cfg}
	for _, path := range Candidates(cfg) {
		f, err := ini.ParseFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			var se *ini.SyntaxError
			if errors.As(err, &se) {
				msg := errors.New(se.Msg)
				if se.Err != nil {
					msg = fmt.Errorf("%s: %w", se.Msg, se.Err)
				}
				return nil, nil, &Error{File: cfg.rel(se.File), Line: se.Line, Err: msg}
			}
			return nil, nil, &Error{File: cfg.rel(path), Err: err}
		}
		s.file = path
		warns, err := s.parse(f)
		if err != nil {
			return nil, nil, err
		}
		return s, append(warns, s.checkScripts()...), nil
	}
	return s, nil, nil
}

// rel names a file relative to the control directory when it is inside.
func (cfg Config) rel(path string) string {
	if r, err := filepath.Rel(cfg.CtrlDir, path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}

// File is the path of the file that was loaded; "" when there was none.
func (s *Set) File() string {
	if s == nil {
		return ""
	}
	return s.file
}

// Processors returns a copy of the processors in file order.
func (s *Set) Processors() []Processor {
	if s == nil {
		return nil
	}
	return append([]Processor(nil), s.procs...)
}

// Len is the number of processors, disabled ones included.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.procs)
}

func (s *Set) parse(f *ini.File) ([]Warning, error) {
	var warns []Warning
	root := f.Root()
	for _, k := range root.Keys {
		warns = append(warns, Warning{File: s.cfg.rel(k.File), Line: k.Line, Key: k.Name,
			Msg: "key outside any [processor] section is ignored"})
	}
	seen := map[string]bool{}
	for _, sec := range f.Sections[1:] {
		if seen[strings.ToLower(sec.Name)] {
			warns = append(warns, Warning{File: s.cfg.rel(sec.File), Line: sec.Line, Section: sec.Name,
				Msg: "duplicate processor section is ignored"})
			continue
		}
		seen[strings.ToLower(sec.Name)] = true
		p, w, err := s.processor(sec)
		if err != nil {
			return nil, err
		}
		warns = append(warns, w...)
		s.procs = append(s.procs, p)
	}
	return warns, nil
}

// processor reads one section. Keys are case-insensitive and the first of
// duplicate keys wins, as in Synchronet.
func (s *Set) processor(sec *ini.Section) (Processor, []Warning, error) {
	p := Processor{Name: sec.Name, Command: sec.Name, PassThru: true, ProcessSPAM: true, ProcessDNSBL: true,
		File: s.cfg.rel(sec.File), Line: sec.Line}
	if len(sec.Junk) > 0 {
		j := sec.Junk[0]
		return p, nil, &Error{File: s.cfg.rel(j.File), Line: j.Line, Section: sec.Name,
			Err: fmt.Errorf("%w: %q", ini.ErrNoDelimiter, j.Value)}
	}
	var warns []Warning
	var err error
	done := map[string]bool{}
	for _, k := range sec.Keys {
		name := strings.ToLower(k.Name)
		if done[name] {
			continue
		}
		done[name] = true
		if name == "command" || name == "eval" {
			p.cmdLine, p.cmdKey = k.Line, k.Name
		}
		var known bool
		if known, err = p.set(name, k.Value); err != nil {
			return p, nil, &Error{File: s.cfg.rel(k.File), Line: k.Line, Section: sec.Name, Key: k.Name, Err: err}
		}
		if !known {
			warns = append(warns, Warning{File: s.cfg.rel(k.File), Line: k.Line, Section: sec.Name, Key: k.Name,
				Msg: "unknown key is ignored"})
		}
	}
	if p.AccessRequirements != "" {
		k, _ := sec.Get("AccessRequirements")
		if s.cfg.ARS == nil {
			warns = append(warns, Warning{File: s.cfg.rel(k.File), Line: k.Line, Section: sec.Name, Key: k.Name,
				Msg: "access requirements cannot be checked here: the processor never runs"})
		} else if p.allow, err = s.cfg.ARS(p.AccessRequirements); err != nil {
			return p, nil, &Error{File: s.cfg.rel(k.File), Line: k.Line, Section: sec.Name, Key: k.Name, Err: err}
		}
	}
	if !p.Native && p.Eval == "" {
		if w := strings.Fields(p.Command); len(w) > 0 && hasNetworkSpecifier(w[0]) {
			file, line, key := s.cfg.rel(sec.File), sec.Line, ""
			if k, ok := sec.Get("Command"); ok {
				file, line, key = s.cfg.rel(k.File), k.Line, k.Name
			}
			return p, nil, &Error{File: file, Line: line, Section: sec.Name, Key: key,
				Err: errors.New("the script name holds a %-specifier whose value a client chooses (%h %i %s %a %r %t): a client would pick the script")}
		}
	}
	if p.IgnoreOnError && !p.Native {
		k, _ := sec.Get("IgnoreOnError")
		warns = append(warns, Warning{File: s.cfg.rel(k.File), Line: k.Line, Section: sec.Name, Key: k.Name,
			Msg: "has no effect on JavaScript processors"})
	}
	return p, warns, nil
}

// set applies one key; known is false for keys mailproc does not use.
func (p *Processor) set(name, value string) (known bool, err error) {
	flags := map[string]*bool{
		"passthru": &p.PassThru, "native": &p.Native, "ignoreonerror": &p.IgnoreOnError,
		"disabled": &p.Disabled, "processspam": &p.ProcessSPAM, "processdnsbl": &p.ProcessDNSBL,
	}
	if b, ok := flags[name]; ok {
		if value == "" {
			return true, nil // an empty value keeps the default
		}
		*b, err = parseBool(value)
		return true, err
	}
	switch name {
	case "command":
		if value != "" {
			p.Command = value
		}
	case "eval":
		p.Eval = value
	case "to":
		p.To, p.to, err = parseList(value)
	case "from":
		p.From, p.from, err = parseList(value)
	case "accessrequirements":
		p.AccessRequirements = value
	default:
		return false, nil
	}
	return true, err
}

// parseBool accepts what Synchronet's ini reader and ini.v1 accept; only
// the first word counts, so "true ; comment" is true.
func parseBool(s string) (bool, error) {
	w := ""
	if f := strings.Fields(s); len(f) > 0 {
		w = f[0]
	}
	switch strings.ToLower(w) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean %q (want true or false)", s)
}

// parseList splits a comma-separated To or From value into .can-style
// patterns, evaluated together with the rules of a pattern file ('!'
// lines included). An empty value is no list at all.
func parseList(value string) ([]string, *pattern.List, error) {
	var items []string
	for item := range strings.SplitSeq(value, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	if len(items) == 0 {
		return nil, nil, nil
	}
	l, err := pattern.Parse(strings.NewReader(strings.Join(items, "\n")))
	if err != nil {
		return nil, nil, fmt.Errorf("pattern: %w", err)
	}
	return items, l, nil
}

// ensureTemp creates the temporary directory when it is missing.
func (cfg Config) ensureTemp() error {
	if cfg.TempDir == "" {
		return errors.New("mailproc: no temporary directory configured")
	}
	if err := os.MkdirAll(cfg.TempDir, 0o700); err != nil {
		return fmt.Errorf("mailproc: temporary directory: %w", err)
	}
	return nil
}
