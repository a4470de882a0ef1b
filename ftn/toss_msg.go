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
	Dest Addr
	// Subject, Date and Body (UTF-8) are the message as read, for a bounce
	// that quotes it.
	Subject string
	Date    time.Time
	Body    string
	// Key identifies the message for duplicate detection: the MSGID with
	// the origin address, or a digest of the message when it has none.
	Key string
	// Message is the Internet form (RFC 5322, CRLF).
	Message []byte
	// Secure is set when the packet came through the secure inbound or
	// carried the packet password of its origin's link: its origin
	// address is vouched for. Anything from an unsecured session may name
	// any origin, so nothing is ever sent back to it.
	Secure bool
}

// ToInternet converts netmail m into an Internet message. host names the
// receiving system in the Received line; now stamps it. A missing or
// unreadable date becomes now.
func ToInternet(m *Message, host string, now time.Time) Incoming {
	t := ParseText(m.Text, CP437)
	dec := func(s string) string { return strings.TrimSpace(t.Charset.Decode([]byte(s))) }
	to, from, subject := dec(m.To), dec(m.From), dec(m.Subject)
	im := InternetMessage{
		Received: fmt.Sprintf("from %s by %s with FTN; %s", m.Orig, host, now.Format(time.RFC1123Z)),
		FromName: from, FromAddr: LocalPart(from) + "@" + m.Orig.Domain(),
		ToName: to, ToAddr: LocalPart(to) + "@" + m.Dest.Domain(),
		Subject: subject, Date: messageDate(m.Date, t, now), Body: t.Body,
	}
	if v, ok := t.Kludge("REPLYADDR"); ok && validAddr(v) {
		im.FromAddr = strings.Trim(v, "<> ")
	}
	msgid, hasID := t.Kludge("MSGID")
	if hasID {
		im.Extra = append(im.Extra, "Message-ID: "+MessageID(msgid), "X-FTN-MSGID: "+clean(msgid))
	}
	if v, ok := t.Kludge("REPLY"); ok {
		im.Extra = append(im.Extra, "In-Reply-To: "+MessageID(v), "X-FTN-REPLY: "+clean(v))
	}
	for _, name := range []string{"PID", "TID"} {
		if v, ok := t.Kludge(name); ok {
			im.Extra = append(im.Extra, "X-FTN-"+name+": "+clean(v))
		}
	}
	key := ""
	if hasID {
		key = "msgid " + clean(msgid)
	} else {
		key = Digest(m.Orig.String(), m.Date, m.To, m.From, m.Subject, string(m.Text))
	}
	return Incoming{To: to, From: from, Orig: m.Orig, Dest: m.Dest, Subject: subject, Date: im.Date, Body: t.Body,
		Key: key, Message: im.Bytes()}
}

// Digest is a duplicate-detection key for a message without an id.
func Digest(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return "sha256 " + hex.EncodeToString(sum[:])
}

// InternetMessage is an imported message about to become RFC 5322 text:
// UTF-8 fields, encoded on output.
type InternetMessage struct {
	Received           string // the Received field's value
	FromName, FromAddr string
	ToName, ToAddr     string
	Subject            string
	Date               time.Time
	Extra              []string // whole header lines, ASCII
	Body               string   // UTF-8, \n line ends
}

// Bytes is the message with CRLF line ends: 8bit text, or
// quoted-printable when a line is longer than RFC 5322 allows.
func (im *InternetMessage) Bytes() []byte {
	var h bytes.Buffer
	fmt.Fprintf(&h, "Received: %s\r\n", im.Received)
	fmt.Fprintf(&h, "From: %s <%s>\r\n", phrase(im.FromName), im.FromAddr)
	fmt.Fprintf(&h, "To: %s <%s>\r\n", phrase(im.ToName), im.ToAddr)
	fmt.Fprintf(&h, "Subject: %s\r\n", encodeWord(im.Subject))
	fmt.Fprintf(&h, "Date: %s\r\n", im.Date.Format(time.RFC1123Z))
	for _, x := range im.Extra {
		h.WriteString(clean(x) + "\r\n")
	}
	body := strings.ReplaceAll(im.Body, "\n", "\r\n") + "\r\n"
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
	return h.Bytes()
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

// LocalPart makes a name usable left of the @: "John Doe" → John.Doe, the
// form the router turns back into a name.
func LocalPart(name string) string {
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
	s = clean(s)
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
