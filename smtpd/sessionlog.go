package smtpd

import (
	"fmt"
	"log/slog"

	"github.com/bbsmail/bbsmail/netutil"
)

// stopping reports whether Shutdown has begun. A session then finishes the
// transaction under way (DATA included) but starts no new one: under load
// a busy client would otherwise keep transactions going for the whole
// grace period.
func (s *session) stopping() bool {
	select {
	case <-s.srv.stopping:
		return true
	default:
		return false
	}
}

// logUnknownRcpt makes RCPT probing visible in the normal log: Synchronet
// logs each unknown recipient at Notice.
func (s *session) logUnknownRcpt(fp string) {
	s.log.Log(s.ctx, slog.LevelInfo+2, fmt.Sprintf("SMTP %s [%s] !UNKNOWN USER-RECIPIENT: %s", s.host, s.ip, fp))
}

// logTLSFailure logs a failed TLS handshake (465 or STARTTLS) in the
// wording every server uses, at the level Synchronet picks for it.
func (s *session) logTLSFailure(err error) {
	s.log.Log(s.ctx, netutil.TLSFailureLevel(err, s.cfg.TLSErrorLevel), fmt.Sprintf("SMTP [%s] !TLS handshake failed: %v", s.ip, err))
}
