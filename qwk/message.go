package qwk

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Format constants (Synchronet's qwk.h).
const (
	BlockLen   = 128
	FieldLen   = 25 // To, From, Subject in the header block
	Newline    = 0xE3
	activeFlag = 0xE1
	// MaxBlocks bounds one message on reading.
	MaxBlocks = 8192
)

// ErrFormat means a message file is not in QWK format.
var ErrFormat = errors.New("qwk: malformed message file")

// Message is one QWK message.
type Message struct {
	Private bool
	// Conf is the conference: 0 for e-mail and netmail.
	Conf uint16
	// Number is the message number in a QWK packet (the conference again
	// in a REP; the encoder writes Conf there for a REP).
	Number int
	Date   time.Time // local time of the writer, minutes only
	// To, From and Subject are the full fields: the header block holds 25
	// columns, longer values go into the text as QWKE lines.
	To, From, Subject string
	Ref               int
	// Kludges are the "@NAME: value" lines at the top of the text
	// (@VIA, @TZ, @MSGID, @REPLY, @REPLYTO), without the @.
	Kludges map[string]string
	// Body is the text, lines ending in \n, in the charset of the packet
	// (CP437 unless the hub is set up for UTF-8).
	Body   string
	NetTag bool
	// Offset is where the header block is in the file, the key of its
	// HEADERS.DAT section.
	Offset int
}

// Encode appends m to b (which must be a whole number of blocks) as a REP
// message: the conference number in the number field.
func Encode(b []byte, m *Message) []byte {
	var text bytes.Buffer
	to, from, subj := m.To, m.From, m.Subject
	if len(to) > FieldLen {
		fmt.Fprintf(&text, "To: %s\n", to)
		to = to[:FieldLen]
	}
	if len(from) > FieldLen {
		fmt.Fprintf(&text, "From: %s\n", from)
		from = from[:FieldLen]
	}
	if len(subj) > FieldLen {
		fmt.Fprintf(&text, "Subject: %s\n", subj)
		subj = subj[:FieldLen]
	}
	for _, k := range []string{"VIA", "TZ", "MSGID", "REPLY", "REPLYTO"} {
		if v, ok := m.Kludges[k]; ok {
			fmt.Fprintf(&text, "@%s: %s\n", k, v)
		}
	}
	text.WriteString(strings.TrimRight(m.Body, "\n"))
	text.WriteByte('\n')
	body := bytes.ReplaceAll(text.Bytes(), []byte("\n"), []byte{Newline})
	if r := len(body) % BlockLen; r != 0 {
		body = append(body, bytes.Repeat([]byte(" "), BlockLen-r)...)
	}
	status := byte(' ')
	if m.Private {
		status = '+'
	}
	tag := byte(' ')
	if m.NetTag {
		tag = '*'
	}
	hdr := fmt.Sprintf("%c%-7d%-13.13s%-25.25s%-25.25s%-25.25s%12s%-8d%-6d",
		status, m.Conf, m.Date.Format("01-02-0615:04"), field(to), field(from), field(subj), "", m.Ref, len(body)/BlockLen+1)
	h := append([]byte(hdr), activeFlag, byte(m.Conf), byte(m.Conf>>8), ' ', ' ', tag)
	return append(append(b, h...), body...)
}

// field keeps header fields printable: a control byte would end up in a
// fixed-width field another program parses.
// It works on bytes: the fields are CP437, which strings.Map would
// mangle as invalid UTF-8.
func field(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < ' ' || c == 0x7f {
			b[i] = ' '
		}
	}
	return string(b)
}

// Header is the first block of a REP (the hub's id) or QWK packet.
func Header(id string) []byte {
	return []byte(fmt.Sprintf("%-128.128s", strings.ToUpper(id)))
}

// Decode reads the messages of a QWK or REP message file (MESSAGES.DAT or
// HUBID.MSG), skipping the first block. A message with a bad header is an
// ErrFormat: the file is not trusted past it.
func Decode(b []byte) ([]Message, error) {
	if len(b) < BlockLen || len(b)%BlockLen != 0 {
		return nil, fmt.Errorf("%w: %d bytes is not a whole number of blocks", ErrFormat, len(b))
	}
	var out []Message
	for off := BlockLen; off < len(b); {
		h := b[off : off+BlockLen]
		if h[0] < ' ' || h[0]&0x80 != 0 {
			return nil, fmt.Errorf("%w: status byte %#x at offset %d", ErrFormat, h[0], off)
		}
		blocks, err := strconv.Atoi(strings.TrimSpace(string(h[116:122])))
		if err != nil || blocks < 1 || blocks > MaxBlocks || off+blocks*BlockLen > len(b) {
			return nil, fmt.Errorf("%w: block count %q at offset %d", ErrFormat, h[116:122], off)
		}
		if blocks == 1 {
			// A vote or an empty record: nothing to carry.
			off += BlockLen
			continue
		}
		m := decodeHeader(h)
		m.Offset = off
		parseText(&m, b[off+BlockLen:off+blocks*BlockLen])
		out = append(out, m)
		off += blocks * BlockLen
	}
	return out, nil
}

func decodeHeader(h []byte) Message {
	str := func(a, z int) string { return strings.TrimRight(string(h[a:z]), " \x00") }
	m := Message{
		Private: h[0] == '+' || h[0] == '*' || h[0] == '~' || h[0] == '`',
		Conf:    uint16(h[123]) | uint16(h[124])<<8,
		To:      str(21, 46), From: str(46, 71), Subject: str(71, 96),
		NetTag: h[127] == '*',
	}
	m.Number, _ = strconv.Atoi(strings.TrimSpace(string(h[1:8])))
	m.Ref, _ = strconv.Atoi(strings.TrimSpace(string(h[108:116])))
	if d, err := time.ParseInLocation("01-02-0615:04", string(h[8:21]), time.Local); err == nil {
		m.Date = d
	}
	return m
}

// parseText splits the QWKE header lines and @kludges off the text.
func parseText(m *Message, raw []byte) {
	raw = bytes.TrimRight(raw, " \x00")
	text := strings.ReplaceAll(string(raw), string([]byte{Newline}), "\n")
	lines := strings.Split(text, "\n")
	i := 0
	for ; i < len(lines); i++ {
		l := lines[i]
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			break
		}
		value = strings.TrimSpace(value)
		switch {
		case strings.EqualFold(name, "To"):
			m.To = value
		case strings.EqualFold(name, "From"):
			m.From = value
		case strings.EqualFold(name, "Subject"):
			m.Subject = value
		case strings.HasPrefix(name, "@") && len(name) > 1 && !strings.ContainsAny(name, " \t"):
			if m.Kludges == nil {
				m.Kludges = map[string]string{}
			}
			m.Kludges[strings.ToUpper(name[1:])] = value
		default:
			m.Body = strings.TrimRight(strings.Join(lines[i:], "\n"), "\n")
			return
		}
	}
	m.Body = strings.TrimRight(strings.Join(lines[i:], "\n"), "\n")
}
