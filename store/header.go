package store

import (
	"bytes"
	"mime"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on what is kept from a message's header for listings. The full
// text is stored unchanged; these only bound the metadata records.
const (
	maxHeaderScan = 64 << 10
	maxFieldLen   = 512
)

// summary is what listings show of a message, taken from its header.
type summary struct {
	From, Subject, MessageID string
	ToName                   string // display name of the first To address
	Date                     time.Time
}

// summarize reads From, Subject, Date and Message-ID from the header of
// msg. Mail from the Internet is often malformed, so it never fails: a
// field it cannot read is left empty. It stops at the first line that is
// neither a field nor a continuation, as the header must have ended there.
func summarize(msg []byte) summary {
	h := scanHeader(msg)
	var s summary
	dec := mime.WordDecoder{}
	s.From = decodeField(&dec, h.Get("From"))
	s.Subject = decodeField(&dec, h.Get("Subject"))
	s.MessageID = clip(strings.TrimSpace(h.Get("Message-Id")))
	s.ToName = toName(&dec, h.Get("To"))
	if d, err := h.Date(); err == nil {
		s.Date = d
	}
	return s
}

// toName is the display name of the first address in a To field. Mail to a
// sub-board often carries an address net/mail cannot parse
// ("sub:CODE@host"), so a name before '<' is taken by hand then.
func toName(dec *mime.WordDecoder, v string) string {
	if v == "" {
		return ""
	}
	if list, err := mail.ParseAddressList(v); err == nil && len(list) > 0 {
		return clip(list[0].Name)
	}
	name, _, ok := strings.Cut(v, "<")
	if !ok {
		return ""
	}
	return decodeField(dec, strings.Trim(strings.TrimSpace(name), `"`))
}

// scanHeader collects the fields of interest into a mail.Header, so that
// net/mail's date parsing can be used on them. Repeated fields keep their
// first value, as readers do.
func scanHeader(msg []byte) mail.Header {
	if len(msg) > maxHeaderScan {
		msg = msg[:maxHeaderScan]
	}
	h := mail.Header{}
	var name string
	for len(msg) > 0 {
		line := msg
		if i := bytes.IndexByte(msg, '\n'); i >= 0 {
			line, msg = msg[:i], msg[i+1:]
		} else {
			msg = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if vals := h[name]; name != "" && len(vals) == 1 {
				vals[0] += " " + string(bytes.TrimSpace(line))
			}
			continue
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(k) == 0 || bytes.ContainsAny(k, " \t") {
			break
		}
		name = textproto.CanonicalMIMEHeaderKey(string(k))
		switch name {
		case "From", "To", "Subject", "Date", "Message-Id":
			if _, dup := h[name]; !dup {
				h[name] = []string{string(bytes.TrimSpace(v))}
				continue
			}
		}
		name = ""
	}
	return h
}

// decodeField decodes RFC 2047 encoded words; undecodable text is kept as
// it came.
func decodeField(dec *mime.WordDecoder, v string) string {
	if d, err := dec.DecodeHeader(v); err == nil {
		v = d
	}
	return clip(v)
}

// clip bounds a field and makes it valid UTF-8 without control
// characters, so that listings cannot drive the sysop's terminal.
func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	if len(s) <= maxFieldLen {
		return s
	}
	s = s[:maxFieldLen]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
