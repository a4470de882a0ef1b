package ftn

import (
	"bytes"
	"strings"
)

// Text is a message text taken apart: kludge lines (FTS-4000) and the
// visible body.
type Text struct {
	Kludges []Kludge
	// Area is the echo tag of an echomail message, "" for netmail.
	Area string
	// Body is the visible text in UTF-8 with LF line ends; SEEN-BY lines
	// and soft CRs are gone.
	Body    string
	Charset Charset
}

// Kludge is one ^A line: its name (upper case, without the colon) and
// value.
type Kludge struct{ Name, Value string }

// Kludge returns the value of the first kludge called name.
func (t *Text) Kludge(name string) (string, bool) {
	for _, k := range t.Kludges {
		if k.Name == name {
			return k.Value, true
		}
	}
	return "", false
}

// ParseText splits raw message text. The body is decoded from the charset
// the CHRS kludge names, else from def.
func ParseText(raw []byte, def Charset) *Text {
	t := &Text{Charset: def}
	raw = bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\r"))
	raw = bytes.ReplaceAll(raw, []byte("\n"), []byte("\r"))
	lines := bytes.Split(raw, []byte("\r"))
	var body [][]byte
	for i, l := range lines {
		switch {
		case len(l) > 0 && l[0] == 1:
			t.Kludges = append(t.Kludges, splitKludge(string(l[1:])))
		case i == 0 && bytes.HasPrefix(l, []byte("AREA:")):
			t.Area = strings.TrimSpace(string(l[5:]))
		case bytes.HasPrefix(l, []byte("SEEN-BY:")):
		default:
			body = append(body, l)
		}
	}
	if v, ok := t.Kludge("CHRS"); ok {
		if c, ok := ParseCharset(v); ok {
			t.Charset = c
		}
	} else if v, ok := t.Kludge("CHARSET"); ok {
		if c, ok := ParseCharset(v); ok {
			t.Charset = c
		}
	}
	for len(body) > 0 && len(bytes.TrimSpace(body[len(body)-1])) == 0 {
		body = body[:len(body)-1]
	}
	joined := bytes.Join(body, []byte("\n"))
	if t.Charset != UTF8 {
		// A soft CR (0x8D) is a line-wrap hint, not text (FTS-0001 §2.2),
		// in the 8-bit charsets only.
		joined = bytes.ReplaceAll(joined, []byte{0x8D}, nil)
	}
	t.Body = t.Charset.Decode(joined)
	return t
}

func splitKludge(s string) Kludge {
	s = strings.TrimRight(s, " ")
	name, value, _ := strings.Cut(s, " ")
	name = strings.TrimSuffix(name, ":")
	if i := strings.IndexByte(name, ':'); i >= 0 {
		// "NAME:value" without the space
		value = name[i+1:] + " " + value
		name = name[:i]
	}
	return Kludge{Name: strings.ToUpper(name), Value: strings.TrimSpace(value)}
}

// BuildText assembles a netmail text: kludges first, then the body
// converted to cs with CR line ends (FTS-0001).
func BuildText(kludges []Kludge, body string, cs Charset) []byte {
	var b bytes.Buffer
	for _, k := range kludges {
		b.WriteByte(1)
		b.WriteString(k.Name)
		switch k.Name {
		case "INTL", "FMPT", "TOPT", "Via":
			b.WriteByte(' ')
		default:
			b.WriteString(": ")
		}
		b.Write(cs.Encode(k.Value))
		b.WriteByte('\r')
	}
	body = strings.ReplaceAll(body, "\r\n", "\n")
	body = strings.ReplaceAll(body, "\r", "\n")
	body = strings.TrimRight(body, "\n")
	// A body line that starts with ^A or "AREA:" would read as a kludge
	// or turn netmail into echomail: show it instead of obeying it.
	lines := strings.Split(body, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "\x01") {
			lines[i] = "@" + l[1:]
		} else if i == 0 && strings.HasPrefix(l, "AREA:") {
			lines[i] = " " + l
		}
	}
	b.Write(cs.Encode(strings.Join(lines, "\r")))
	b.WriteByte('\r')
	return b.Bytes()
}
