package smtpd

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bbsmail/bbsmail/ctrl/pattern"
)

// This file writes the automatic ctrl/spamblock.cfg entries of spam bait:
// a client that sent to a bait address is blocked, as Synchronet does,
// with a line such as
//
//	192.0.2.7<TAB>t=20261122T140509-0500<TAB>p=SMTP<TAB>r=SPAM BAIT (bait@bbs.example) taken<TAB>u=spammer@example.com<TAB>h=mx.spam.example
//
// (e= follows r= when SpamBlockDuration is set). The connection checks read
// the file through Config.SpamBlock, which re-reads it when it changes.

// blockClient adds the client to spamblock.cfg for taking the bait addr,
// unless it is the server's own address, in ipfilter_exempt.cfg or in
// spamblock_exempt.cfg, or already blocked. It reports whether it added
// an entry.
func (s *session) blockClient(addr string) bool {
	if s.cfg.SpamBlockPath == "" || s.exempt || s.client().OwnHost() ||
		listed(s.cfg.SpamBlockExempt, s.ip, s.clientHost()) {
		return false
	}
	now := time.Now()
	m := pattern.Meta{
		Added:    now,
		Protocol: "SMTP",
		Reason:   fmt.Sprintf("SPAM BAIT (%s) taken", addr),
		User:     s.tx.reversePath,
		Host:     s.clientHost(),
	}
	if d := s.cfg.SpamBlockDuration; d > 0 {
		m.Expires = now.Add(d)
	}
	s.srv.blockMu.Lock()
	defer s.srv.blockMu.Unlock()
	added, err := addBlock(s.cfg.SpamBlockPath, s.ip, pattern.FormatLine(s.ip, m), now)
	// The list rechecks its file only now and then; the client's next
	// connection must meet the new entry.
	if f, ok := s.cfg.SpamBlock.(interface{ Invalidate() }); ok {
		f.Invalidate()
	}
	if err != nil {
		s.log.Error(fmt.Sprintf("SMTP !cannot add %s to %s: %v", s.ip, s.cfg.SpamBlockPath, err))
		return false
	}
	if added {
		s.log.Warn(fmt.Sprintf("SMTP !BLOCKING IP ADDRESS: %s in %s", s.ip, s.cfg.SpamBlockPath))
	}
	return added
}

// addBlock appends line, the entry for ip, to the pattern file at path,
// unless the list already matches ip at now. Expired entries for ip are
// removed first, so that a client that keeps coming back leaves one line
// in force rather than a growing tail of dead ones. The caller serialises
// calls.
func addBlock(path, ip, line string, now time.Time) (bool, error) {
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	if l, err := pattern.Parse(bytes.NewReader(data)); err == nil {
		if matchesAt(l, ip, now) {
			return false, nil
		}
		if err := pruneExpired(path, data, ip, now); err != nil {
			return false, err
		}
	}
	// A file with a line that is no pattern is the sysop's to fix: it is
	// not rewritten, but the entry still goes in.
	if err := pattern.Append(path, line); err != nil {
		return false, fmt.Errorf("append to %s: %w", path, err)
	}
	return true, nil
}

// matchesAt is List.Match at a given time.
func matchesAt(l *pattern.List, ip string, now time.Time) bool {
	_, ok := l.Lookup(now, ip)
	return ok
}

// pruneExpired rewrites the file without its expired entries for ip
// (data is its content). Nothing is written when there are none. The new
// file replaces the old one by rename, so a reader sees one or the other,
// never half of either.
func pruneExpired(path string, data []byte, ip string, now time.Time) error {
	var out bytes.Buffer
	pruned := 0
	for rest := data; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line = rest[:i+1]
		}
		rest = rest[len(line):]
		if expiredEntryFor(string(line), ip, now) {
			pruned++
			continue
		}
		out.Write(line)
	}
	if pruned == 0 {
		return nil
	}
	return replaceFile(path, out.Bytes())
}

// expiredEntryFor reports whether raw is a (not negated) entry that
// matches ip and has expired at now.
func expiredEntryFor(raw, ip string, now time.Time) bool {
	e, ok, err := pattern.ParseLine(raw)
	if err != nil || !ok || e.Negated || !e.Expired(now) {
		return false
	}
	// Asked at the zero time, nothing has expired: the answer is whether
	// the pattern itself covers ip.
	l, err := pattern.Parse(strings.NewReader(raw))
	return err == nil && matchesAt(l, ip, time.Time{})
}

// replaceFile writes data to a new file beside path, with path's
// permissions, and renames it over path.
func replaceFile(path string, data []byte) error {
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("rewrite %s: %w", path, err)
	}
	name := tmp.Name()
	_, werr := tmp.Write(data)
	if werr == nil {
		werr = tmp.Sync()
	}
	if err := tmp.Close(); werr == nil {
		werr = err
	}
	if werr == nil {
		werr = os.Chmod(name, mode)
	}
	if werr == nil {
		werr = os.Rename(name, path)
	}
	if werr != nil {
		_ = os.Remove(name)
		return fmt.Errorf("rewrite %s: %w", path, werr)
	}
	return nil
}
