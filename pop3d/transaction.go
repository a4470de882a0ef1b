package pop3d

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// entry is one message of the session's snapshot (RFC 1939 §5: messages
// are numbered from 1 in the order of the snapshot taken at login).
type entry struct {
	Message
	deleted   bool // DELE; undone by RSET
	retrieved bool // sent completely by RETR
}

// cleanupTimeout bounds the mailbase calls made after the client has gone.
const cleanupTimeout = 30 * time.Second

// transCommand handles the TRANSACTION state (RFC 1939 §5, RFC 2449 §5).
func (s *session) transCommand(cmd command) error {
	switch cmd.Verb {
	case "STAT":
		n, size := s.totals()
		s.send(fmt.Sprintf("+OK %d %d", n, size))
		return nil
	case "LIST":
		return s.scan(cmd.Arg, func(e *entry) string { return fmt.Sprint(e.Size) })
	case "UIDL":
		return s.scan(cmd.Arg, func(e *entry) string { return fmt.Sprint(e.ID) })
	case "RETR":
		return s.retr(cmd.Arg)
	case "TOP":
		return s.top(cmd.Arg)
	case "DELE":
		e, n, err := s.message(cmd.Arg)
		if err != nil {
			return err
		}
		e.deleted = true
		s.send(fmt.Sprintf("+OK message %d deleted", n))
		return nil
	case "RSET":
		for i := range s.msgs {
			s.msgs[i].deleted = false
		}
		n, size := s.totals()
		s.send(fmt.Sprintf("+OK maildrop has %d messages (%d octets)", n, size))
		return nil
	case "NOOP":
		s.send("+OK")
		return nil
	case "CAPA":
		s.capa()
		return nil
	case "QUIT":
		return s.update()
	case "USER", "PASS", "APOP":
		return refuse("Already logged in")
	case "STLS":
		return refuse("STLS only before login")
	}
	return badCommand("Unknown command")
}

// totals counts the messages not marked deleted, and their octets.
func (s *session) totals() (n int, size int64) {
	for i := range s.msgs {
		if !s.msgs[i].deleted {
			n++
			size += s.msgs[i].Size
		}
	}
	return n, size
}

// message resolves a message-number argument. Deleted messages do not
// exist for the client until RSET (RFC 1939 §5).
func (s *session) message(arg string) (*entry, int, error) {
	n, ok := parseNumber(strings.TrimSpace(arg))
	if !ok {
		return nil, 0, badCommand("Invalid message number")
	}
	if n < 1 || n > len(s.msgs) {
		return nil, 0, refuse("No such message")
	}
	e := &s.msgs[n-1]
	if e.deleted {
		return nil, 0, refuse("Message %d already deleted", n)
	}
	return e, n, nil
}

// scan answers LIST and UIDL, for one message or all of them.
func (s *session) scan(arg string, value func(*entry) string) error {
	if strings.TrimSpace(arg) != "" {
		e, n, err := s.message(arg)
		if err != nil {
			return err
		}
		s.send(fmt.Sprintf("+OK %d %s", n, value(e)))
		return nil
	}
	n, size := s.totals()
	s.send(fmt.Sprintf("+OK %d messages (%d octets)", n, size))
	for i := range s.msgs {
		if !s.msgs[i].deleted {
			s.send(fmt.Sprintf("%d %s", i+1, value(&s.msgs[i])))
		}
	}
	s.send(".")
	return nil
}

// read fetches one message's text from the mailbase into the session's
// text buffer.
func (s *session) read(e *entry) ([]byte, error) {
	data, err := s.srv.deps.Mailbox.Read(s.ctx, s.ident.User, e.ID, s.text[:0])
	if err != nil {
		return nil, fmt.Errorf("read message %d of user %d: %w", e.ID, s.ident.User, err)
	}
	s.text = data
	return data, nil
}

func (s *session) retr(arg string) error {
	e, _, err := s.message(arg)
	if err != nil {
		return err
	}
	data, err := s.read(e)
	if err != nil {
		return err
	}
	status := append(append(s.out[:0], "+OK "...), strconv.Itoa(len(data))...)
	if err := s.sendBody(append(status, " octets"...), data); err != nil {
		return err
	}
	// Only a message that left completely counts as retrieved.
	e.retrieved = true
	return nil
}

// top sends the header, the blank line and the first k body lines
// (RFC 1939 §7).
func (s *session) top(arg string) error {
	num, lines, _ := strings.Cut(strings.TrimSpace(arg), " ")
	k, ok := parseNumber(strings.TrimSpace(lines))
	if !ok {
		return badCommand("TOP needs a message number and a line count")
	}
	e, _, err := s.message(num)
	if err != nil {
		return err
	}
	data, err := s.read(e)
	if err != nil {
		return err
	}
	return s.sendBody(append(s.out[:0], "+OK top of message follows"...), topOf(data, k))
}

// topOf returns the header section, the empty line after it and at most k
// lines of the body. A message without an empty line is all header.
func topOf(data []byte, k int) []byte {
	body := -1
	for _, sep := range [][]byte{[]byte("\r\n\r\n"), []byte("\n\n")} {
		if i := bytes.Index(data, sep); i >= 0 && (body < 0 || i+len(sep) < body) {
			body = i + len(sep)
		}
	}
	if bytes.HasPrefix(data, []byte("\r\n")) {
		body = 2
	}
	if body < 0 {
		return data
	}
	end := body
	for ; k > 0 && end < len(data); k-- {
		i := bytes.IndexByte(data[end:], '\n')
		if i < 0 {
			return data
		}
		end += i + 1
	}
	return data[:end]
}

// sendBody sends a status line and a multi-line response body with its
// terminating line. The whole response is assembled in the session's out
// buffer (status may already sit at its start) and goes out in one write
// when no other reply is waiting before it.
func (s *session) sendBody(status, data []byte) error {
	if s.cfg.Debug {
		s.log.Debug("POP3 TX " + string(status))
	}
	out := append(s.out[:0], status...)
	out = appendBody(append(out, "\r\n"...), data)
	_, err := s.w.Write(out)
	if err == nil {
		err = s.w.Flush()
	}
	s.out, s.text = keepBuffer(out), keepBuffer(s.text)
	if err != nil {
		return errQuiet
	}
	return nil
}

// maxKeptBuffer bounds the buffers a session keeps between responses, so
// that one large message does not stay in memory for the whole session: an
// idle session that retrieved mail holds at most twice this. Larger
// messages get buffers of their own at each RETR, a cost small beside
// their size.
const maxKeptBuffer = 64 << 10

func keepBuffer(b []byte) []byte {
	if cap(b) > maxKeptBuffer {
		return nil
	}
	return b[:0]
}

// update is the RFC 1939 §6 UPDATE state: every message marked deleted,
// and retrieved messages that are to be killed once read, go in one
// Mailbox.Delete call; the rest that were retrieved are marked read.
func (s *session) update() error {
	s.quit, s.updated = true, true
	var del []uint64
	for i := range s.msgs {
		if e := &s.msgs[i]; e.deleted || s.killed(e) {
			del = append(del, e.ID)
		}
	}
	var failed error
	if len(del) > 0 {
		if err := s.srv.deps.Mailbox.Delete(s.ctx, s.ident.User, del...); err != nil {
			failed = fmt.Errorf("delete %d messages of user %d: %w", len(del), s.ident.User, err)
		} else {
			s.log.Info(fmt.Sprintf("POP3 %s deleted %d messages", s.ident.Alias, len(del)))
		}
	}
	s.markRead(s.ctx, failed == nil)
	s.srv.unlock(s)
	if failed != nil {
		return &replyError{Text: "[SYS/TEMP] Some deleted messages not removed", Close: true, Err: failed}
	}
	n := len(s.msgs) - len(del)
	s.send(fmt.Sprintf("+OK %s POP3 server signing off (%d messages left)", s.cfg.HostName, n))
	return nil
}

// killed says whether a retrieved message goes at QUIT: kill-read mail,
// and spam under KILL_READ_SPAM. Neither applies under NO_READ_POP3, as
// retrieval then does not count as reading.
func (s *session) killed(e *entry) bool {
	return e.retrieved && !s.cfg.NoReadPOP3 && (e.KillRead || e.Spam && s.cfg.KillReadSpam)
}

// markRead flags the retrieved messages as read, except those just
// deleted. It runs at QUIT and also when the client goes away without
// QUIT, since the client has the messages either way.
func (s *session) markRead(ctx context.Context, deleted bool) {
	if s.cfg.NoReadPOP3 {
		return
	}
	var ids []uint64
	for i := range s.msgs {
		e := &s.msgs[i]
		if e.retrieved && !(deleted && (e.deleted || s.killed(e))) {
			ids = append(ids, e.ID)
		}
	}
	if len(ids) == 0 {
		return
	}
	if err := s.srv.deps.Mailbox.MarkRead(ctx, s.ident.User, ids...); err != nil {
		s.log.Error("POP3 !ERROR marking messages read", "user", s.ident.Alias, "err", err)
	}
}

// finish ends a session that left the TRANSACTION state without QUIT:
// nothing is deleted (RFC 1939 §6), retrieved mail is marked read.
func (s *session) finish() {
	if s.state != stateTrans || s.updated {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), cleanupTimeout)
	defer cancel()
	s.markRead(ctx, false)
}
