package smtpd

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
