package ftn

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Message attribute bits (FTS-0001 §2.1, packed and stored messages).
const (
	AttrPrivate  uint16 = 0x0001
	AttrCrash    uint16 = 0x0002
	AttrReceived uint16 = 0x0004
	AttrSent     uint16 = 0x0008
	AttrFile     uint16 = 0x0010
	AttrTransit  uint16 = 0x0020
	AttrOrphan   uint16 = 0x0040
	AttrKillSent uint16 = 0x0080
	AttrLocal    uint16 = 0x0100
	AttrHold     uint16 = 0x0200
)

// Field limits of a packed message, terminating NUL excluded (FTS-0001).
const (
	MaxName    = 35
	MaxSubject = 71
	headerLen  = 58
	msgHdrLen  = 14 // the fixed part of a packed message, before DateTime
	dateLen    = 20
	// MaxText bounds one message's text on reading: a hostile packet
	// cannot make the parser hold more than this for one message.
	MaxText = 1 << 20
)

// ErrFormat means a packet is not a valid Type-2 / Type-2+ packet.
var ErrFormat = errors.New("ftn: malformed packet")

// Header is a packet header. Orig and Dest are the packet's addresses
// (the links), not those of the messages inside.
type Header struct {
	Orig, Dest Addr
	Created    time.Time
	Password   string // up to 8 characters
	// ProductCode and revision identify the program that wrote it
	// (FTSC product code list; 0xFE is "no code assigned").
	ProductCode uint16
	RevMajor    uint8
	RevMinor    uint8
	// Plus is set when the packet carries a valid Type-2+ capability word
	// (FSC-0039/FSC-0048); without it the zones come from the FSC-0045
	// fields and points are unknown.
	Plus bool
}

// Message is one packed message. Orig and Dest carry zone and point when
// the packet, the INTL, FMPT and TOPT kludges tell them (see Decode); on
// encoding they only give the header's net/node.
type Message struct {
	Orig, Dest Addr
	Attr       uint16
	Cost       uint16
	Date       string // the raw FTS-0001 DateTime field
	To, From   string
	Subject    string
	// Text is the message text as carried: kludge lines (^A...), CR line
	// ends, the charset of the CHRS kludge. Use ParseText to read it.
	Text []byte
}

// Echomail reports whether the message belongs to an echo (its text
// starts with an AREA: line, FTS-0004).
func (m *Message) Echomail() bool {
	return bytes.HasPrefix(m.Text, []byte("AREA:"))
}

// Packet is a decoded packet.
type Packet struct {
	Header   Header
	Messages []Message
}

// EncodeHeader returns the 58-byte Type-2+ header (FSC-0039 layout: the
// real net in OrigNet, AuxNet 0, the capability word and its byte-swapped
// copy, zones in both places, points).
func EncodeHeader(h Header) []byte {
	b := make([]byte, headerLen)
	le := binary.LittleEndian
	t := h.Created
	le.PutUint16(b[0:], h.Orig.Node)
	le.PutUint16(b[2:], h.Dest.Node)
	le.PutUint16(b[4:], uint16(t.Year()))
	le.PutUint16(b[6:], uint16(t.Month()-1))
	le.PutUint16(b[8:], uint16(t.Day()))
	le.PutUint16(b[10:], uint16(t.Hour()))
	le.PutUint16(b[12:], uint16(t.Minute()))
	le.PutUint16(b[14:], uint16(t.Second()))
	le.PutUint16(b[18:], 2)
	le.PutUint16(b[20:], h.Orig.Net)
	le.PutUint16(b[22:], h.Dest.Net)
	b[24] = byte(h.ProductCode)
	b[25] = h.RevMajor
	copy(b[26:34], strings.ToUpper(h.Password))
	le.PutUint16(b[34:], h.Orig.Zone)
	le.PutUint16(b[36:], h.Dest.Zone)
	le.PutUint16(b[40:], 0x0100) // capability word, byte-swapped
	b[42] = byte(h.ProductCode >> 8)
	b[43] = h.RevMinor
	le.PutUint16(b[44:], 0x0001)
	le.PutUint16(b[46:], h.Orig.Zone)
	le.PutUint16(b[48:], h.Dest.Zone)
	le.PutUint16(b[50:], h.Orig.Point)
	le.PutUint16(b[52:], h.Dest.Point)
	return b
}

// DecodeHeader reads a packet header, Type 2 or 2+.
func DecodeHeader(b []byte) (Header, error) {
	if len(b) < headerLen {
		return Header{}, fmt.Errorf("%w: %d bytes, a header needs %d", ErrFormat, len(b), headerLen)
	}
	le := binary.LittleEndian
	u := func(off int) uint16 { return le.Uint16(b[off:]) }
	if u(18) != 2 {
		return Header{}, fmt.Errorf("%w: packet type %d, want 2", ErrFormat, u(18))
	}
	var h Header
	h.Orig = Addr{Zone: u(34), Net: u(20), Node: u(0)}
	h.Dest = Addr{Zone: u(36), Net: u(22), Node: u(2)}
	month := int(u(6)) + 1
	if month < 1 || month > 12 {
		month = 1
	}
	h.Created = time.Date(int(u(4)), time.Month(month), int(u(8)), int(u(10)), int(u(12)), int(u(14)), 0, time.Local)
	h.ProductCode = uint16(b[24])
	h.RevMajor = b[25]
	h.Password = strings.TrimRight(string(b[26:34]), "\x00 ")
	if i := strings.IndexByte(h.Password, 0); i >= 0 {
		h.Password = h.Password[:i]
	}
	cw, valid := u(44), u(40)
	if cw&1 != 0 && cw == valid>>8|valid<<8 {
		h.Plus = true
		h.ProductCode |= uint16(b[42]) << 8
		h.RevMinor = b[43]
		if z := u(46); z != 0 {
			h.Orig.Zone = z
		}
		if z := u(48); z != 0 {
			h.Dest.Zone = z
		}
		h.Orig.Point, h.Dest.Point = u(50), u(52)
		// FSC-0048: a point writes -1 as its net and the real one in AuxNet.
		if h.Orig.Point != 0 && h.Orig.Net == 0xFFFF {
			h.Orig.Net = u(38)
		}
	}
	return h, nil
}

// FormatDate writes t as the FTS-0001 DateTime field "DD Mon YY  HH:MM:SS".
func FormatDate(t time.Time) string {
	return t.Format("02 Jan 06  15:04:05")
}

// ParseDate reads an FTS-0001 DateTime in loc. It also takes the SEAdog
// form "Www DD Mon YY HH:MM" that old software writes.
func ParseDate(s string, loc *time.Location) (time.Time, bool) {
	s = strings.Join(strings.Fields(s), " ")
	for _, layout := range []string{"02 Jan 06 15:04:05", "2 Jan 06 15:04:05", "Mon 2 Jan 06 15:04", "Mon 02 Jan 06 15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// AppendMessage appends m in packed form (FTS-0001 §2.2). Names and
// subject longer than the format allows are cut; NUL bytes in the text
// are dropped because NUL ends it.
func AppendMessage(b []byte, m *Message) []byte {
	le := binary.LittleEndian
	b = le.AppendUint16(b, 2)
	b = le.AppendUint16(b, m.Orig.Node)
	b = le.AppendUint16(b, m.Dest.Node)
	b = le.AppendUint16(b, m.Orig.Net)
	b = le.AppendUint16(b, m.Dest.Net)
	b = le.AppendUint16(b, m.Attr)
	b = le.AppendUint16(b, m.Cost)
	date := m.Date
	if len(date) > dateLen-1 {
		date = date[:dateLen-1]
	}
	date += strings.Repeat("\x00", dateLen-len(date))
	b = append(b, date...)
	b = appendString(b, m.To, MaxName)
	b = appendString(b, m.From, MaxName)
	b = appendString(b, m.Subject, MaxSubject)
	b = append(b, bytes.ReplaceAll(m.Text, []byte{0}, nil)...)
	return append(b, 0)
}

func appendString(b []byte, s string, max int) []byte {
	s = strings.ReplaceAll(s, "\x00", "")
	if len(s) > max {
		s = s[:max]
	}
	return append(append(b, s...), 0)
}

// Encode returns a whole packet: header, messages, terminator.
func Encode(h Header, msgs []Message) []byte {
	b := EncodeHeader(h)
	for i := range msgs {
		b = AppendMessage(b, &msgs[i])
	}
	return append(b, 0, 0)
}

// Decode parses a whole packet. It never trusts the input: every length
// is checked, strings are bounded, and a packet that ends early or holds
// garbage is an ErrFormat. Message addresses are completed from the
// packet header and the INTL/FMPT/TOPT kludges (FTS-4001).
func Decode(b []byte) (*Packet, error) {
	h, err := DecodeHeader(b)
	if err != nil {
		return nil, err
	}
	p := &Packet{Header: h}
	rest := b[headerLen:]
	for {
		if len(rest) < 2 {
			return nil, fmt.Errorf("%w: no terminator after message %d", ErrFormat, len(p.Messages))
		}
		t := binary.LittleEndian.Uint16(rest)
		if t == 0 {
			return p, nil
		}
		if t != 2 {
			return nil, fmt.Errorf("%w: message %d has type %d", ErrFormat, len(p.Messages)+1, t)
		}
		m, n, err := decodeMessage(rest)
		if err != nil {
			return nil, fmt.Errorf("message %d: %w", len(p.Messages)+1, err)
		}
		m.complete(h)
		p.Messages = append(p.Messages, m)
		rest = rest[n:]
	}
}

func decodeMessage(b []byte) (Message, int, error) {
	if len(b) < msgHdrLen+dateLen {
		return Message{}, 0, fmt.Errorf("%w: message header cut short", ErrFormat)
	}
	le := binary.LittleEndian
	m := Message{
		Orig: Addr{Node: le.Uint16(b[2:]), Net: le.Uint16(b[6:])},
		Dest: Addr{Node: le.Uint16(b[4:]), Net: le.Uint16(b[8:])},
		Attr: le.Uint16(b[10:]), Cost: le.Uint16(b[12:]),
	}
	date := b[msgHdrLen : msgHdrLen+dateLen]
	if i := bytes.IndexByte(date, 0); i >= 0 {
		date = date[:i]
	}
	m.Date = string(date)
	off := msgHdrLen + dateLen
	var err error
	for _, f := range []struct {
		dst *string
		max int
	}{{&m.To, MaxName}, {&m.From, MaxName}, {&m.Subject, MaxSubject}} {
		var s []byte
		if s, off, err = cString(b, off, f.max+1); err != nil {
			return Message{}, 0, err
		}
		*f.dst = string(s)
	}
	if m.Text, off, err = cString(b, off, MaxText); err != nil {
		return Message{}, 0, err
	}
	m.Text = bytes.Clone(m.Text)
	return m, off, nil
}

// cString reads a NUL-terminated string of at most max bytes (NUL
// excluded) at off and returns it and the offset after the NUL. Some
// writers fill a name to its full length without a NUL; max allows one
// byte over so those still read.
func cString(b []byte, off, max int) ([]byte, int, error) {
	end := min(len(b), off+max+1)
	i := bytes.IndexByte(b[off:end], 0)
	if i < 0 {
		return nil, 0, fmt.Errorf("%w: unterminated field at offset %d", ErrFormat, off)
	}
	return b[off : off+i], off + i + 1, nil
}

// complete fills in zones and points from the packet header and kludges.
func (m *Message) complete(h Header) {
	m.Orig.Zone, m.Dest.Zone = h.Orig.Zone, h.Dest.Zone
	k := ParseText(m.Text, UTF8)
	if v, ok := k.Kludge("INTL"); ok {
		if f := strings.Fields(v); len(f) == 2 {
			dst, err1 := ParseAddr(f[0])
			src, err2 := ParseAddr(f[1])
			if err1 == nil && err2 == nil {
				m.Dest.Zone, m.Orig.Zone = dst.Zone, src.Zone
			}
		}
	}
	m.Orig.Point = kludgePoint(k, "FMPT")
	m.Dest.Point = kludgePoint(k, "TOPT")
}

func kludgePoint(k *Text, name string) uint16 {
	v, ok := k.Kludge(name)
	if !ok {
		return 0
	}
	n, err := part(strings.TrimSpace(v))
	if err != nil || n == Wildcard {
		return 0
	}
	return n
}
