package smtpd

import (
	"fmt"
	"os"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
)

// spamLog appends an entry about the current transaction's sender to
// data/spam.log.
func (s *session) spamLog(action, to, reason string) {
	s.spamLogFrom(action, s.tx.reversePath, to, reason)
}

// spamLogFrom appends an entry to data/spam.log in Synchronet's format: CRLF
// lines and a blank line after each entry, so existing log readers work.
// sender is the reverse path, or the client's host name before MAIL.
func (s *session) spamLogFrom(action, sender, to, reason string) {
	path := s.cfg.SpamLogPath
	if path == "" {
		return
	}
	entry := envelope.SpamLogEntry("SMTP", action, s.host, s.ip, sender, to, reason, time.Now())
	s.srv.spamMu.Lock()
	defer s.srv.spamMu.Unlock()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		s.log.Error(fmt.Sprintf("SMTP cannot open spam log: %v", err))
		return
	}
	if _, err := f.WriteString(entry); err != nil {
		s.log.Error(fmt.Sprintf("SMTP cannot write spam log: %v", err))
	}
	if err := f.Close(); err != nil {
		s.log.Error(fmt.Sprintf("SMTP cannot close spam log: %v", err))
	}
}
