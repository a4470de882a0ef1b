package smtpd

import (
	"fmt"
	"os"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/netutil"
)

// This file is text/smtpspy.can: a session whose client (IP or host
// name), reverse path or a recipient matches the list has its dialogue
// written to logs/smtpspy.txt from that moment on, so a sysop can see what
// a troublesome peer actually sends. Synchronet writes the raw lines; here
// every line carries the time, the session id and its direction, because
// several sessions may be logged into the file at once, and AUTH data is
// never written (Synchronet would log the password an AUTH PLAIN carries).

// spy is the open smtpspy.txt of one session.
type spy struct {
	f  *os.File
	id string
}

// spyOn starts logging the session when one of the values matches
// smtpspy.can; what says which it was, for the log, and cmd is the command
// line that named it ("" before the greeting), logged as the first client
// line. A session logged already stays logged.
func (s *session) spyOn(what, cmd string, values ...string) {
	if s.spy != nil || s.cfg.SpyLogPath == "" || !listed(s.cfg.SpyList, values...) {
		return
	}
	f, err := os.OpenFile(s.cfg.SpyLogPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		s.log.Error(fmt.Sprintf("SMTP cannot open the spy log: %v", err))
		return
	}
	s.spy = &spy{f: f, id: s.id}
	s.log.Info(fmt.Sprintf("SMTP %s [%s] session logged to %s (smtpspy.can: %s)", s.host, s.ip, s.cfg.SpyLogPath, what))
	s.spy.write("*", fmt.Sprintf("session from %s [%s] port %d to port %d, smtpspy.can matched %s",
		s.host, s.ip, netutil.AddrPort(s.conn.RemoteAddr()), s.port, what))
	if cmd != "" {
		s.spy.write("C:", cmd)
	}
}

// spyRead logs a line from the client. AUTH data is replaced: the answers
// to 334 challenges entirely, and the initial response of an AUTH command.
func (s *session) spyRead(line []byte) {
	if s.spy == nil {
		return
	}
	text := hideAuth(string(line))
	if s.hideInput {
		text = "(AUTH data hidden)"
	}
	s.spy.write("C:", text)
}

// spyWrite logs a reply line.
func (s *session) spyWrite(line string) {
	if s.spy != nil {
		s.spy.write("S:", line)
	}
}

// closeSpy ends the session's spy log.
func (s *session) closeSpy() {
	if s.spy == nil {
		return
	}
	s.spy.write("*", "session ended")
	if err := s.spy.f.Close(); err != nil {
		s.log.Error(fmt.Sprintf("SMTP cannot close the spy log: %v", err))
	}
	s.spy = nil
}

// write appends one line with a single write call: the file is opened
// for appending, so lines of concurrent sessions never mix within a line.
// Control characters are written as escapes (envelope.LogText), so a line
// stays one line and shows what the client sent.
func (sp *spy) write(dir, text string) {
	line := fmt.Sprintf("%s %s %s %s\n", time.Now().Format("2006-01-02 15:04:05"), sp.id, dir, envelope.LogText(text))
	// A failing spy log must not disturb the session; the next open
	// reports a lasting problem.
	_, _ = sp.f.WriteString(line)
}
