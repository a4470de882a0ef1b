package sendmail

import (
	"errors"
	"fmt"
	"net/textproto"
	"strings"
)

// errBadReply is returned for a line that is not an SMTP reply.
var errBadReply = errors.New("malformed reply")

// reply is one SMTP reply, possibly of several lines (RFC 5321 §4.2).
type reply struct {
	Code  int
	Lines []string // text after the code and separator, one per line
}

// String gives the reply as one line, "550 5.1.1 text; more text", for
// logs, LastError and bounces.
func (r reply) String() string {
	return fmt.Sprintf("%d %s", r.Code, strings.Join(r.Lines, "; "))
}

// Positive reports a 2xx or 3xx reply.
func (r reply) Positive() bool { return r.Code >= 200 && r.Code < 400 }

// Permanent reports a 5xx reply.
func (r reply) Permanent() bool { return r.Code >= 500 }

// Enhanced returns the RFC 3463 status code at the start of the text, or "".
func (r reply) Enhanced() string {
	if len(r.Lines) == 0 {
		return ""
	}
	f, _, _ := strings.Cut(r.Lines[0], " ")
	parts := strings.Split(f, ".")
	if len(parts) != 3 || (parts[0] != "2" && parts[0] != "4" && parts[0] != "5") {
		return ""
	}
	for _, p := range parts[1:] {
		if p == "" || len(p) > 3 || strings.Trim(p, "0123456789") != "" {
			return ""
		}
	}
	return f
}

// parseReplyLine splits one reply line into its code, whether more lines
// follow ("250-"), and its text. A bare code ("250") is accepted.
func parseReplyLine(line string) (code int, more bool, text string, err error) {
	if len(line) < 3 {
		return 0, false, "", fmt.Errorf("%w: %q", errBadReply, line)
	}
	for i := 0; i < 3; i++ {
		if line[i] < '0' || line[i] > '9' {
			return 0, false, "", fmt.Errorf("%w: %q", errBadReply, line)
		}
		code = code*10 + int(line[i]-'0')
	}
	if code < 200 || code > 599 {
		return 0, false, "", fmt.Errorf("%w: %q", errBadReply, line)
	}
	if len(line) == 3 {
		return code, false, "", nil
	}
	switch line[3] {
	case '-':
		more = true
	case ' ':
	default:
		return 0, false, "", fmt.Errorf("%w: %q", errBadReply, line)
	}
	return code, more, line[4:], nil
}

// maxReplyLines bounds a multi-line reply so a hostile server cannot make
// us collect lines forever.
const maxReplyLines = 100

// readReply reads one complete reply. All lines must carry the same code.
func readReply(r *textproto.Reader) (reply, error) {
	var rep reply
	for {
		line, err := r.ReadLine()
		if err != nil {
			return reply{}, fmt.Errorf("reading reply: %w", err)
		}
		code, more, text, err := parseReplyLine(line)
		if err != nil {
			return reply{}, err
		}
		if rep.Code != 0 && code != rep.Code {
			return reply{}, fmt.Errorf("%w: code changed within reply: %q", errBadReply, line)
		}
		rep.Code = code
		rep.Lines = append(rep.Lines, text)
		if !more {
			return rep, nil
		}
		if len(rep.Lines) >= maxReplyLines {
			return reply{}, fmt.Errorf("%w: more than %d lines", errBadReply, maxReplyLines)
		}
	}
}

// parseEHLO turns the lines of an EHLO reply into upper-cased keywords
// mapped to their parameters (RFC 5321 §4.1.1.1). The first line is the
// server's greeting and is skipped.
func parseEHLO(r reply) map[string]string {
	ext := map[string]string{}
	for i, l := range r.Lines {
		if i == 0 {
			continue
		}
		k, v, _ := strings.Cut(strings.TrimSpace(l), " ")
		if k == "" {
			continue
		}
		ext[strings.ToUpper(k)] = strings.TrimSpace(v)
	}
	return ext
}
