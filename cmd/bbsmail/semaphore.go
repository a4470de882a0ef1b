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
// a shutdown or recycle file newer than the last look triggers the action,
// and so does an edit of sbbs.ini (recycle). The names are those
// Synchronet's mail server checks: <action>, <action>.mail,
// <action>.<host>, <action>.<host>.mail, plus mail.now/mail.rec and the
// legacy mailsrvr.rec.
type semaphores struct {
	since time.Time
	ini   time.Time
}

func newSemaphores(cfg *ctrl.Config, started time.Time) *semaphores {
	return &semaphores{since: started, ini: mtime(cfg.Paths.SBBSIni)}
}

func semNames(action, short string) []string {
	host, _ := os.Hostname()
	names := []string{action, action + ".mail", short}
	if host != "" {
		names = append(names, action+"."+host, action+"."+host+".mail")
		if i := strings.IndexByte(host, '.'); i > 0 {
			names = append(names, action+"."+host[:i], action+"."+host[:i]+".mail")
		}
	}
	return names
}

func (s *semaphores) check(cfg *ctrl.Config) semAction {
	now := time.Now()
	defer func() { s.since = now }()
	newer := func(names []string) bool {
		for _, n := range names {
			if t := mtime(filepath.Join(cfg.Paths.Ctrl, n)); !t.IsZero() && t.After(s.since) {
				return true
			}
		}
		return false
	}
	if newer(semNames("shutdown", "mail.now")) || newer([]string{"shutdown.now"}) {
		return semShutdown
	}
	if newer(semNames("recycle", "mail.rec")) || newer([]string{"mailsrvr.rec"}) {
		return semRecycle
	}
	if t := mtime(cfg.Paths.SBBSIni); !t.Equal(s.ini) {
		s.ini = t
		return semRecycle
	}
	return semNone
}

func mtime(name string) time.Time {
	fi, err := os.Stat(name)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}
