package main

import (
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bbsmail/bbsmail/ctrl"
)

type semAction int

const (
	semNone semAction = iota
	semRecycle
	semShutdown
)

// semaphores watches Synchronet's semaphore files in the control directory:
// a shutdown, recycle or clear file newer than the last look triggers the
// action, and so does an edit of a watched file, sbbs.ini and the
// mailproc.ini candidates (recycle). The names are those
// Synchronet's mail server checks: <action>, <action>.mail,
// <action>.<host>, <action>.<host>.mail, plus mail.now/mail.rec and the
// legacy mailsrvr.rec. Files are left in place; their time stamps tell new
// from old.
type semaphores struct {
	since      time.Time
	clearSince time.Time
	// files are the files whose edit recycles (sbbs.ini, and what watch
	// adds); stamp is their time stamps at the last look, so creating or
	// removing one counts too.
	files []string
	stamp string
}

// watch adds files whose creation, edit or removal triggers a recycle.
func (s *semaphores) watch(files ...string) {
	s.files = append(s.files, files...)
	s.stamp = stamps(s.files)
}

func stamps(files []string) string {
	var b strings.Builder
	for _, f := range files {
		b.WriteString(mtime(f).Format(time.RFC3339Nano))
		b.WriteByte(' ')
	}
	return b.String()
}

func newSemaphores(cfg *ctrl.Config, started time.Time) *semaphores {
	s := &semaphores{since: started, clearSince: started}
	s.watch(cfg.Paths.SBBSIni)
	return s
}

func semNames(action, short string) []string {
	host, _ := os.Hostname()
	names := []string{action, action + ".mail"}
	if short != "" {
		names = append(names, short)
	}
	if host != "" {
		names = append(names, action+"."+host, action+"."+host+".mail")
		if i := strings.IndexByte(host, '.'); i > 0 {
			names = append(names, action+"."+host[:i], action+"."+host[:i]+".mail")
		}
	}
	return names
}

func (s *semaphores) check(cfg *ctrl.Config) semAction {
	// The newest time stamp acted on is remembered along with the clock,
	// so a file stamped ahead of the clock triggers once.
	next := time.Now()
	if s.since.After(next) {
		next = s.since
	}
	defer func() { s.since = next }()
	newer := func(names []string) bool {
		found := false
		for _, n := range names {
			if t := mtime(filepath.Join(cfg.Paths.Ctrl, n)); !t.IsZero() && t.After(s.since) {
				found = true
				if t.After(next) {
					next = t
				}
			}
		}
		return found
	}
	if newer(semNames("shutdown", "mail.now")) || newer([]string{"shutdown.now"}) {
		return semShutdown
	}
	if newer(semNames("recycle", "mail.rec")) || newer([]string{"mailsrvr.rec"}) {
		return semRecycle
	}
	if st := stamps(s.files); st != s.stamp {
		s.stamp = st
		return semRecycle
	}
	return semNone
}

// clearFile returns the clear semaphore (ctrl/clear, clear.mail, ...)
// written since the last look, or "". The newest time stamp seen is
// remembered too, so a file written during the look, or stamped ahead of
// the clock, triggers once.
func (s *semaphores) clearFile(cfg *ctrl.Config) string {
	next := time.Now()
	found := ""
	for _, n := range semNames("clear", "") {
		p := filepath.Join(cfg.Paths.Ctrl, n)
		if t := mtime(p); !t.IsZero() && t.After(s.clearSince) {
			if found == "" {
				found = p
			}
			if t.After(next) {
				next = t
			}
		}
	}
	s.clearSince = next
	return found
}

// pauseFile returns the pause semaphore (ctrl/pause, pause.mail, ...)
// that exists, or "": a pause lasts as long as the file is there.
func (s *semaphores) pauseFile(cfg *ctrl.Config) string {
	for _, n := range semNames("pause", "") {
		p := filepath.Join(cfg.Paths.Ctrl, n)
		if !mtime(p).IsZero() {
			return p
		}
	}
	return ""
}

// firstLine is the first line of a file, trimmed; "" when there is none
// or the file cannot be read.
func firstLine(name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(line)
}

func mtime(name string) time.Time {
	fi, err := os.Stat(name)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}
