package smtpd

import (
	"fmt"

	"github.com/bbsmail/bbsmail/envelope"
)

// processed is what the mail processors left of a message.
type processed struct {
	msg    []byte
	prefix []byte // fields for the top of each copy, apart from msg
	taken  bool   // a processor consumed the message: 250, nothing stored
}

// runProcessors hands the message to mailproc.ini's processors (through
// Deps.Processors) and applies their verdict: a rejection is the client's
// answer, a consumed message is taken (250, nothing stored), and otherwise
// the processors' text and recipient list replace the received ones.
func (s *session) runProcessors(env *envelope.Envelope, msg []byte, hdr headerInfo) (processed, error) {
	if s.deps.Processors == nil {
		return processed{msg: msg, prefix: s.tx.authField}, nil
	}
	name, addr := hdr.fromName, hdr.from
	if addr == "" {
		addr = s.tx.reversePath
	}
	if name == "" {
		name = addr
	}
	res, err := s.deps.Processors.Process(s.ctx, &ProcessInput{
		Env: env, Text: msg, Prefix: s.tx.authField, SenderName: name, SenderAddr: addr,
		LastRcpt: s.tx.lastRcpt, Listed: s.dnsblListed(), Bait: s.tx.bait, Log: s.log,
	})
	if err != nil {
		return processed{}, fmt.Errorf("mail processors: %w", err)
	}
	switch {
	case res.Reject != nil:
		s.log.Info(fmt.Sprintf("SMTP %s [%s] message from %s rejected by a mail processor: %d %s",
			s.host, s.ip, angle(s.tx.reversePath), res.Reject.Code, res.Reject.Text), "msg", env.ID)
		return processed{}, res.Reject
	case res.Consumed:
		s.log.Info(fmt.Sprintf("SMTP %s [%s] message from %s taken by a mail processor: %s",
			s.host, s.ip, angle(s.tx.reversePath), res.Reason), "msg", env.ID)
		return processed{taken: true}, nil
	}
	// The fields the server added itself (Authentication-Results, the
	// DNSBL tag) do not count: only growth past the limit by a processor.
	// A processor that changed the text hands it back with the
	// Authentication-Results field inside (the file it edited held it).
	if s.cfg.MaxMsgSize > 0 && int64(len(res.Text)) > max(s.cfg.MaxMsgSize, int64(len(msg)+len(s.tx.authField))) {
		s.log.Warn(fmt.Sprintf("!SMTP %s [%s] message from %s refused: a mail processor made it %d bytes, over %d",
			s.host, s.ip, angle(s.tx.reversePath), len(res.Text), s.cfg.MaxMsgSize))
		return processed{}, replyGrownTooBig(s.cfg.MaxMsgSize)
	}
	env.Rcpts = res.Rcpts
	return processed{msg: res.Text, prefix: res.Prefix}, nil
}
