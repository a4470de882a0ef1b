package ftn

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Incoming is a netmail read from a packet, ready for a mailbox.
type Incoming struct {
	To   string // the addressee's name, for the user lookup
	From string
	Orig Addr
	// Key identifies the message for duplicate detection: the MSGID with
	// the origin address, or a digest of the message when it has none.
	Key string
	// Message is the Internet form (RFC 5322, CRLF).
	Message []byte
}

// ToInternet converts netmail m into an Internet message. host names the
// receiving system in the Received line; now stamps it. A missing or
// unreadable date becomes now.
func ToInternet(m *Message, host string, now time.Time) Incoming {
	t := ParseText(m.Text, CP437)
	dec := func(s string) string { return strings.TrimSpace(t.Charset.Decode([]byte(s))) }
	to, from, subject := dec(m.To), dec(m.From), dec(m.Subject)
	date := messageDate(m.Date, t, now)
	var h bytes.Buffer
	fmt.Fprintf(&h, "Received: from %s by %s with FTN; %s\r\n", m.Orig, host, now.Format(time.RFC1123Z))
	fromAddr := localPart(from) + "@" + m.Orig.Domain()
	if v, ok := t.Kludge("REPLYADDR"); ok && validAddr(v) {
		fromAddr = strings.Trim(v, "<> ")
	}
	fmt.Fprintf(&h, "From: %s <%s>\r\n", phrase(from), fromAddr)
	fmt.Fprintf(&h, "To: %s <%s@%s>\r\n", phrase(to), localPart(to), m.Dest.Domain())
	fmt.Fprintf(&h, "Subject: %s\r\n", encodeWord(subject))
	fmt.Fprintf(&h, "Date: %s\r\n", date.Format(time.RFC1123Z))
	msgid, hasID := t.Kludge("MSGID")
	if hasID {
		fmt.Fprintf(&h, "Message-ID: %s\r\nX-FTN-MSGID: %s\r\n", MessageID(msgid), clean(msgid))
	}
	if v, ok := t.Kludge("REPLY"); ok {
		fmt.Fprintf(&h, "In-Reply-To: %s\r\nX-FTN-REPLY: %s\r\n", MessageID(v), clean(v))
	}
	for _, name := range []string{"PID", "TID"} {
		if v, ok := t.Kludge(name); ok {
			fmt.Fprintf(&h, "X-FTN-%s: %s\r\n", name, clean(v))
		}
	}
	body := strings.ReplaceAll(t.Body, "\n", "\r\n") + "\r\n"
	cte := "8bit"
	if longLine(body) {
		cte = "quoted-printable"
		var b bytes.Buffer
		w := quotedprintable.NewWriter(&b)
		w.Write([]byte(body))
		w.Close()
		body = b.String()
	}
	fmt.Fprintf(&h, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: %s\r\n\r\n", cte)
	h.WriteString(body)
	key := ""
	if hasID {
		key = "msgid " + clean(msgid)
	} else {
		sum := sha256.Sum256(append([]byte(m.Orig.String()+"\x00"+m.Date+"\x00"+m.To+"\x00"+m.From+"\x00"+m.Subject+"\x00"), m.Text...))
		key = "sha256 " + hex.EncodeToString(sum[:])
	}
	return Incoming{To: to, From: from, Orig: m.Orig, Key: key, Message: h.Bytes()}
}

// messageDate reads the FTS-0001 date in the sender's zone (TZUTC).
func messageDate(raw string, t *Text, now time.Time) time.Time {
	loc := time.UTC
	if v, ok := t.Kludge("TZUTC"); ok {
		if off, ok := parseTZUTC(v); ok {
			loc = time.FixedZone("", off)
		}
	}
	d, ok := ParseDate(raw, loc)
	if !ok {
		return now
	}
	return d
}

func parseTZUTC(v string) (int, bool) {
	v = strings.TrimSpace(v)
	sign := 1
	if strings.HasPrefix(v, "-") {
		sign, v = -1, v[1:]
	} else {
		v = strings.TrimPrefix(v, "+")
	}
	if len(v) != 4 {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n%100 >= 60 || n/100 > 14 {
		return 0, false
	}
	return sign * (n/100*3600 + n%100*60), true
}

// clean keeps a kludge value fit for a header line.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "?")
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// localPart makes a name usable left of the @: "John Doe" → John.Doe, the
// form the router turns back into a name.
func localPart(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", r)):
			b.WriteRune(r)
		case r == ' ' || r == '.':
			if s := b.String(); s != "" && !strings.HasSuffix(s, ".") {
				b.WriteByte('.')
			}
		}
	}
	s := strings.Trim(b.String(), ".")
	if s == "" {
		return "unknown"
	}
	return s
}

func validAddr(s string) bool {
	s = strings.Trim(strings.TrimSpace(s), "<>")
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " \t\r\n<>\"(),;:\\")
}

// phrase quotes a display name, encoding it when it is not ASCII.
func phrase(s string) string {
	if s == "" {
		return `""`
	}
	if !isASCII(s) {
		return mime.QEncoding.Encode("utf-8", s)
	}
	return strconv.Quote(s)
}

func encodeWord(s string) string {
	if isASCII(s) {
		return clean(s)
	}
	return mime.QEncoding.Encode("utf-8", s)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func longLine(s string) bool {
	for l := range strings.SplitSeq(s, "\r\n") {
		if len(l) > 998 {
			return true
		}
	}
	return false
}
