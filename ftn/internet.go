package ftn

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Outgoing is one netmail to export, as the mailbase keeps it.
type Outgoing struct {
	ID   uint64 // the netmail entry
	To   string // the addressee's name
	Dest Addr
	// Message is the Internet message (trace header block included).
	Message  []byte
	Received time.Time
	// LocalSender is set when a BBS user sent it: the user's name
	// (SenderName, the alias) is the FidoNet sender and no gateway reply
	// address is needed.
	LocalSender bool
	SenderName  string
}

// ExportOptions say how a netmail is written.
type ExportOptions struct {
	Orig    Addr    // our address, in the destination's zone where we have one
	Charset Charset // what the destination reads (CHRS)
	PID     string  // product id for the PID kludge
}

// FromInternet turns an Internet message into a packed netmail message
// from opts.Orig to o.Dest: the header fields become the FTS-0001 fields
// and the FTS-4000 kludges (INTL, FMPT, TOPT, MSGID, REPLY, PID, TZUTC,
// CHRS, REPLYADDR, REPLYTO), the first text/plain part becomes the text in
// opts.Charset.
func FromInternet(o Outgoing, opts ExportOptions) Message {
	in := ParseInternet(o.Message, o.Received)
	if o.LocalSender && o.SenderName != "" {
		in.FromName = o.SenderName
	}
	k := []Kludge{
		{"INTL", o.Dest.Boss().String() + " " + opts.Orig.Boss().String()},
	}
	if opts.Orig.Point != 0 {
		k = append(k, Kludge{"FMPT", strconv.Itoa(int(opts.Orig.Point))})
	}
	if o.Dest.Point != 0 {
		k = append(k, Kludge{"TOPT", strconv.Itoa(int(o.Dest.Point))})
	}
	k = append(k, Kludge{"MSGID", fmt.Sprintf("%s %08x", opts.Orig, serial(opts.Orig, o))})
	if r, ok := replyKludge(in.InReplyTo); ok {
		k = append(k, Kludge{"REPLY", r})
	}
	k = append(k, Kludge{"PID", opts.PID}, Kludge{"TZUTC", tzutc(in.Date)}, Kludge{"CHRS", opts.Charset.Kludge()})
	if in.FromAddr != "" {
		k = append(k, Kludge{"REPLYADDR", in.FromAddr})
		if !o.LocalSender {
			// FSC-0035: replies go to the gateway (us) addressed to UUCP.
			k = append(k, Kludge{"REPLYTO", opts.Orig.String() + " UUCP"})
		}
	}
	return Message{
		Orig: opts.Orig, Dest: o.Dest, Attr: AttrPrivate,
		Date:    FormatDate(in.Date),
		To:      cut(opts.Charset, o.To, MaxName),
		From:    cut(opts.Charset, in.FromName, MaxName),
		Subject: cut(opts.Charset, in.Subject, MaxSubject),
		Text:    BuildText(k, in.Body, opts.Charset),
	}
}

// Parsed is what an exporter takes from an Internet message, in UTF-8.
type Parsed struct {
	FromName, FromAddr string
	Subject, InReplyTo string
	MessageID          string
	Date               time.Time
	// Body is the first text/plain part, transfer encoding undone, with
	// \n line ends.
	Body string
}

// ParseInternet reads an Internet message leniently: whatever cannot be
// read is left empty; the date falls back to received, then now.
func ParseInternet(msg []byte, received time.Time) Parsed {
	hdr, body := splitInternet(msg)
	var p Parsed
	p.FromName, p.FromAddr = sender(hdr.Get("From"))
	p.Subject = decodeWords(hdr.Get("Subject"))
	p.InReplyTo = strings.TrimSpace(hdr.Get("In-Reply-To"))
	p.MessageID = strings.TrimSpace(hdr.Get("Message-ID"))
	p.Date = received
	if d, err := mail.ParseDate(hdr.Get("Date")); err == nil {
		p.Date = d
	}
	if p.Date.IsZero() {
		p.Date = time.Now()
	}
	p.Body = strings.ReplaceAll(strings.ReplaceAll(textBody(hdr, body), "\r\n", "\n"), "\r", "\n")
	return p
}

// cut converts s to cs and bounds it to n bytes.
func cut(cs Charset, s string, n int) string {
	b := cs.Encode(strings.TrimSpace(s))
	if len(b) > n {
		b = b[:n]
		if cs == UTF8 {
			for len(b) > 0 && !utf8.Valid(b) {
				b = b[:len(b)-1]
			}
		}
	}
	return string(b)
}

func splitInternet(msg []byte) (mail.Header, []byte) {
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		return mail.Header{}, msg
	}
	body, _ := io.ReadAll(m.Body)
	return m.Header, body
}

var decoder = mime.WordDecoder{CharsetReader: func(cs string, r io.Reader) (io.Reader, error) {
	if c, ok := ParseCharset(cs); ok && c == Latin1 {
		b, err := io.ReadAll(r)
		return strings.NewReader(Latin1.Decode(b)), err
	}
	return nil, fmt.Errorf("charset %s", cs)
}}

func decodeWords(s string) string {
	if d, err := decoder.DecodeHeader(s); err == nil {
		return d
	}
	return s
}

// sender returns the From display name (else the local part) and address.
func sender(from string) (name, addr string) {
	a, err := mail.ParseAddress(from)
	if err != nil {
		return strings.TrimSpace(decodeWords(from)), ""
	}
	name = a.Name
	if name == "" {
		name, _, _ = strings.Cut(a.Address, "@")
	}
	return name, a.Address
}

// textBody returns the first text/plain part, decoded to UTF-8.
func textBody(hdr mail.Header, body []byte) string {
	ct := hdr.Get("Content-Type")
	if ct == "" {
		ct = "text/plain"
	}
	text, ok := plainPart(ct, hdr.Get("Content-Transfer-Encoding"), body, 0)
	if !ok {
		return "[This message has no plain text part; it was not carried over FidoNet.]"
	}
	return text
}

func plainPart(ct, cte string, body []byte, depth int) (string, bool) {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		mt, params = "text/plain", nil
	}
	if strings.HasPrefix(mt, "multipart/") && depth < 5 {
		r := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			p, err := r.NextRawPart()
			if err != nil {
				return "", false
			}
			b, _ := io.ReadAll(io.LimitReader(p, MaxText))
			pct := p.Header.Get("Content-Type")
			if pct == "" {
				pct = "text/plain"
			}
			if s, ok := plainPart(pct, p.Header.Get("Content-Transfer-Encoding"), b, depth+1); ok {
				return s, true
			}
		}
	}
	if mt != "text/plain" {
		return "", false
	}
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		if b, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body))); err == nil {
			body = b
		}
	case "base64":
		if b, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, bytes.NewReader(bytes.Join(bytes.Fields(body), nil)))); err == nil {
			body = b
		}
	}
	if c, ok := ParseCharset(params["charset"]); ok && c != UTF8 {
		return c.Decode(body), true
	}
	return UTF8.Decode(body), true
}

func serial(a Addr, o Outgoing) uint32 {
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%d/%d", a, o.ID, o.Received.UnixNano())
	return h.Sum32()
}

// tzutc is the TZUTC kludge value (FTS-4008): -0500, 0100.
func tzutc(t time.Time) string {
	_, off := t.Zone()
	sign := ""
	if off < 0 {
		sign, off = "-", -off
	}
	return fmt.Sprintf("%s%02d%02d", sign, off/3600, off%3600/60)
}

// msgidRE is a MSGID of the usual form: an address and a hex serial.
var msgidRE = regexp.MustCompile(`^(\d+):(\d+)/(\d+)(?:\.(\d+))?(?:@[A-Za-z0-9_.-]+)? ([0-9A-Fa-f]{1,8})$`)

// MessageID turns a MSGID kludge into a Message-ID: <serial.z.n.f.p@fidonet>
// for the usual form (so a reply's In-Reply-To leads back to a REPLY
// kludge), else a hash of the whole value.
func MessageID(msgid string) string {
	msgid = strings.TrimSpace(msgid)
	if m := msgidRE.FindStringSubmatch(msgid); m != nil {
		p := m[4]
		if p == "" {
			p = "0"
		}
		return fmt.Sprintf("<%s.%s.%s.%s.%s@fidonet>", strings.ToLower(m[5]), m[1], m[2], m[3], p)
	}
	h := fnv.New64a()
	io.WriteString(h, msgid)
	return fmt.Sprintf("<%016x@msgid.fidonet>", h.Sum64())
}

var replyRE = regexp.MustCompile(`^<([0-9a-f]{1,8})\.(\d+)\.(\d+)\.(\d+)\.(\d+)@fidonet>$`)

// replyKludge turns an In-Reply-To made by MessageID back into a REPLY
// kludge value.
func replyKludge(inReplyTo string) (string, bool) {
	m := replyRE.FindStringSubmatch(strings.TrimSpace(inReplyTo))
	if m == nil {
		return "", false
	}
	a := m[2] + ":" + m[3] + "/" + m[4]
	if m[5] != "0" {
		a += "." + m[5]
	}
	return a + " " + m[1], true
}
