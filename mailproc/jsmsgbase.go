package mailproc

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"path/filepath"
	"strings"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/dop251/goja"
)

// Boards is the mailbase as Synchronet's message bases: the sub-boards'
// posts, and delivery of what a script writes (posts, and mail to
// Internet addresses or users, which goes out through the queue). The
// wiring implements it over the store.
type Boards interface {
	// Posts lists the post numbers of a sub-board, oldest first.
	Posts(code string) ([]uint64, error)
	// PostText is a post's text as stored: header and body, CRLF.
	PostText(code string, number uint64) ([]byte, error)
	// Deliver stores a message a script wrote, for the envelope's
	// recipients (sub-board posts, mailboxes, the outgoing queue).
	Deliver(env *envelope.Envelope, text []byte) error
}

// SubInfo is a sub-board as msg_area.sub describes it.
type SubInfo struct {
	Code, Name, Description, Group string
}

// ErrUnsupported is wrapped by the failure of a script that used a part
// of Synchronet's object model bbsmail cannot provide faithfully (a
// MsgBase feature sub-boards do not have). Trying again would fail the
// same way: with PassThru = false the message is refused with 550.
var ErrUnsupported = errors.New("not supported by bbsmail's message bases")

// unsupportedMsgBase are the MsgBase methods sub-boards cannot carry
// (polls, votes, header rewrites, indexes); calling one fails the script
// with ErrUnsupported, and bbsmail check warns about scripts that name
// them.
var unsupportedMsgBase = []string{
	"vote_msg", "add_poll", "close_poll", "how_user_voted", "put_msg_header",
	"get_all_msg_headers", "get_msg_index", "get_index", "dump_msg_header",
}

// Synchronet's numbers, from smbdefs.js.
const (
	netInternet  = 5
	rfc822Header = 0xb0
)

// jsMsgBase is one MsgBase object: "mail" (write only) or a sub-board.
type jsMsgBase struct {
	h      *jsHost
	code   string // lower case; "mail" for the mail base
	open   bool
	status int
	err    string
}

// msgArea is msg_area: the sub-boards by lower-case code.
func (h *jsHost) msgArea() *goja.Object {
	subs := h.vm.NewObject()
	for _, sb := range h.set.cfg.Subs {
		o := h.vm.NewObject()
		for k, v := range map[string]any{
			"code": strings.ToLower(sb.Code), "name": sb.Name, "description": sb.Description,
			"grp_name": sb.Group, "is_moderated": false, "settings": 0,
		} {
			_ = o.Set(k, v)
		}
		_ = subs.Set(strings.ToLower(sb.Code), o)
	}
	area := h.vm.NewObject()
	_ = area.Set("sub", subs)
	return area
}

func (h *jsHost) knownSub(code string) bool {
	for _, sb := range h.set.cfg.Subs {
		if strings.EqualFold(sb.Code, code) {
			return true
		}
	}
	return false
}

// msgBaseConstructor is `new MsgBase(code)`.
func (h *jsHost) msgBaseConstructor(call goja.ConstructorCall) *goja.Object {
	m := &jsMsgBase{h: h, code: strings.ToLower(call.Argument(0).String())}
	o := call.This
	for k, fn := range map[string]func(goja.FunctionCall) goja.Value{
		"open": m.openJS, "close": m.closeJS, "get_msg_header": m.getHeader, "get_msg_body": m.getBody,
		"save_msg": m.save, "remove_msg": func(goja.FunctionCall) goja.Value { return h.vm.ToValue(false) },
	} {
		_ = o.Set(k, fn)
	}
	for _, name := range unsupportedMsgBase {
		_ = o.Set(name, func(goja.FunctionCall) goja.Value {
			err := fmt.Errorf("MsgBase.%s: %w", name, ErrUnsupported)
			h.unsupported = err
			panic(h.vm.NewGoError(err))
		})
	}
	for k, get := range map[string]func() any{
		"is_open": func() any { return m.open }, "status": func() any { return m.status },
		"error": func() any { return m.err }, "cfg": func() any { return m.code },
		"file":       func() any { return m.file() },
		"first_msg":  func() any { n := m.numbers(); return first(n) },
		"last_msg":   func() any { n := m.numbers(); return last(n) },
		"total_msgs": func() any { return len(m.numbers()) },
	} {
		getter := h.vm.ToValue(func(goja.FunctionCall) goja.Value { return h.vm.ToValue(get()) })
		_ = o.DefineAccessorProperty(k, getter, nil, goja.FLAG_FALSE, goja.FLAG_TRUE)
	}
	return nil
}

func first(n []uint64) uint64 {
	if len(n) == 0 {
		return 0
	}
	return n[0]
}

func last(n []uint64) uint64 {
	if len(n) == 0 {
		return 0
	}
	return n[len(n)-1]
}

// file is where Synchronet keeps the base (data/subs/<code>, data/mail):
// list servers keep their subscriber lists and pointers beside it.
func (m *jsMsgBase) file() string {
	if m.code == "mail" {
		return filepath.Join(m.h.set.cfg.DataDir, "mail")
	}
	return filepath.Join(m.h.set.cfg.DataDir, "subs", m.code)
}

func (m *jsMsgBase) fail(status int, format string, args ...any) goja.Value {
	m.status, m.err = status, fmt.Sprintf(format, args...)
	m.h.log.Warn("!Mail processor script: MsgBase " + m.code + ": " + m.err)
	return m.h.vm.ToValue(false)
}

// openJS opens the base: "mail" or a configured sub-board, creating
// data/subs/ for the files scripts keep beside it.
func (m *jsMsgBase) openJS(goja.FunctionCall) goja.Value {
	if m.h.set.cfg.Boards == nil {
		return m.fail(-1, "the mailbase is not available to scripts here")
	}
	if m.code != "mail" && !m.h.knownSub(m.code) {
		return m.fail(-1, "no sub-board %q in msgs.ini", m.code)
	}
	if err := m.h.fs.mkdirAll(filepath.Dir(m.file())); err != nil {
		return m.fail(-1, "%v", err)
	}
	m.open, m.status, m.err = true, 0, ""
	return m.h.vm.ToValue(true)
}

func (m *jsMsgBase) closeJS(goja.FunctionCall) goja.Value {
	m.open = false
	return m.h.vm.ToValue(true)
}

// numbers are the base's message numbers; the mail base shows none
// (scripts do not read mailboxes).
func (m *jsMsgBase) numbers() []uint64 {
	if !m.open || m.code == "mail" {
		return nil
	}
	n, err := m.h.set.cfg.Boards.Posts(m.code)
	if err != nil {
		m.fail(-1, "%v", err)
		return nil
	}
	return n
}

// locate turns (by_offset, n) into a post number.
func (m *jsMsgBase) locate(call goja.FunctionCall) (uint64, bool) {
	nums := m.numbers()
	n := call.Argument(1).ToInteger()
	if call.Argument(0).ToBoolean() {
		if n < 0 || n >= int64(len(nums)) {
			return 0, false
		}
		return nums[n], true
	}
	for _, x := range nums {
		if int64(x) == n {
			return x, true
		}
	}
	return 0, false
}

// post reads a post and splits it into its parsed header and its body.
func (m *jsMsgBase) post(call goja.FunctionCall) (uint64, *mail.Message, []byte, bool) {
	num, ok := m.locate(call)
	if !ok {
		return 0, nil, nil, false
	}
	text, err := m.h.set.cfg.Boards.PostText(m.code, num)
	if err != nil {
		m.fail(-1, "%v", err)
		return 0, nil, nil, false
	}
	msg, err := mail.ReadMessage(bytes.NewReader(text))
	if err != nil {
		m.fail(-1, "post %d: %v", num, err)
		return 0, nil, nil, false
	}
	body := text
	if i := bytes.Index(text, []byte("\r\n\r\n")); i >= 0 {
		body = text[i+4:]
	}
	return num, msg, body, true
}

// getHeader(by_offset, n) answers the post's header as Synchronet's
// header object (number, to, from, from_net_addr, subject, date, id,
// reply_id, attr), null when there is no such post.
func (m *jsMsgBase) getHeader(call goja.FunctionCall) goja.Value {
	num, msg, _, ok := m.post(call)
	if !ok {
		return goja.Null()
	}
	o := m.h.vm.NewObject()
	from, fromAddr := addrParts(msg.Header.Get("From"))
	to, _ := addrParts(msg.Header.Get("To"))
	for k, v := range map[string]any{
		"number": num, "offset": num - 1, "to": to, "from": from, "subject": msg.Header.Get("Subject"),
		"date": msg.Header.Get("Date"), "id": msg.Header.Get("Message-ID"), "reply_id": msg.Header.Get("In-Reply-To"),
		"attr": 0, "to_net_type": 0, "field_list": m.h.vm.NewArray(),
	} {
		_ = o.Set(k, v)
	}
	if fromAddr != "" {
		_ = o.Set("from_net_addr", fromAddr)
		_ = o.Set("from_net_type", netInternet)
	}
	return o
}

// addrParts splits an address header into display name and address.
func addrParts(s string) (name, addr string) {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return strings.TrimSpace(s), ""
	}
	if a.Name == "" {
		return a.Address, a.Address
	}
	return a.Name, a.Address
}

// getBody(by_offset, n, ...) answers the post's body, null when there is
// no such post.
func (m *jsMsgBase) getBody(call goja.FunctionCall) goja.Value {
	_, _, body, ok := m.post(call)
	if !ok {
		return goja.Null()
	}
	return m.h.vm.ToValue(latin1(body))
}

// save(hdr, body[, rcpt_list]) writes a message: a post on a sub-board,
// or on the mail base mail for each recipient (Internet addresses are
// queued for SendMail; a user number is a mailbox).
func (m *jsMsgBase) save(call goja.FunctionCall) goja.Value {
	if !m.open {
		return m.fail(-1, "not open")
	}
	hdr := call.Argument(0).ToObject(m.h.vm)
	// The reverse path is the header's, else its sender's address, as
	// Synchronet's SendMail picks it.
	rp := strings.Trim(str(hdr, "reverse_path"), "<>")
	if rp == "" {
		rp = str(hdr, "from_net_addr")
	}
	env := &envelope.Envelope{ID: "script", Received: time.Now(), ReversePath: rp}
	if m.code != "mail" {
		to := str(hdr, "to")
		if to == "" {
			to = "All"
		}
		env.Rcpts = []envelope.Rcpt{{Kind: envelope.KindSub, Sub: m.code, To: to}}
	} else {
		rcpts := []*goja.Object{hdr}
		if l := call.Argument(2); !goja.IsUndefined(l) && !goja.IsNull(l) {
			rcpts = nil
			lo := l.ToObject(m.h.vm)
			for i := int64(0); i < lo.Get("length").ToInteger(); i++ {
				rcpts = append(rcpts, lo.Get(fmt.Sprint(i)).ToObject(m.h.vm))
			}
		}
		for _, r := range rcpts {
			rc, err := mailRcpt(r)
			if err != nil {
				m.h.unsupported = err
				panic(m.h.vm.NewGoError(err))
			}
			env.Rcpts = append(env.Rcpts, rc)
		}
	}
	if len(env.Rcpts) == 0 {
		return m.fail(-1, "no recipients")
	}
	text := m.h.messageText(hdr, call.Argument(1).String())
	if err := m.h.set.cfg.Boards.Deliver(env, text); err != nil {
		return m.fail(-1, "%v", err)
	}
	m.h.wrote = true
	return m.h.vm.ToValue(true)
}

// mailRcpt is one recipient of a message saved on the mail base.
func mailRcpt(r *goja.Object) (envelope.Rcpt, error) {
	addr := str(r, "to_net_addr")
	nt := int64(0)
	if v := r.Get("to_net_type"); v != nil && !goja.IsUndefined(v) {
		nt = v.ToInteger()
	}
	switch {
	case nt == netInternet && addr != "":
		return envelope.Rcpt{Kind: envelope.KindRemote, To: str(r, "to"), NetType: envelope.NetInternet,
			NetAddr: addr, ForwardPath: "<" + addr + ">"}, nil
	case nt == 0:
		if v := r.Get("to_ext"); v != nil && !goja.IsUndefined(v) && v.ToInteger() > 0 {
			return envelope.Rcpt{Kind: envelope.KindMailbox, To: str(r, "to"), User: uint32(v.ToInteger())}, nil
		}
	}
	return envelope.Rcpt{}, fmt.Errorf("MsgBase.save_msg to %q (net type %d): %w", str(r, "to"), nt, ErrUnsupported)
}

// str reads a header field as a string, "" when absent; line ends become
// spaces so no field can add header lines.
func str(o *goja.Object, key string) string {
	v := o.Get(key)
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return ""
	}
	return strings.Join(strings.FieldsFunc(v.String(), func(r rune) bool { return r == '\r' || r == '\n' }), " ")
}

// messageText builds the Internet message Synchronet's mail server would
// send for a header object and a body.
func (h *jsHost) messageText(hdr *goja.Object, body string) []byte {
	var b strings.Builder
	field := func(name, value string) {
		if value != "" {
			b.WriteString(name + ": " + value + "\r\n")
		}
	}
	named := func(name, addr string) string {
		switch {
		case addr == "":
			return name
		case name == "" || name == addr:
			return "<" + addr + ">"
		}
		return (&mail.Address{Name: name, Address: addr}).String()
	}
	field("From", named(str(hdr, "from"), str(hdr, "from_net_addr")))
	field("To", named(str(hdr, "to"), str(hdr, "to_net_addr")))
	field("Reply-To", str(hdr, "replyto_net_addr"))
	field("Subject", str(hdr, "subject"))
	date := str(hdr, "date")
	if date == "" {
		date = time.Now().Format(time.RFC1123Z)
	}
	field("Date", date)
	id := str(hdr, "id")
	if id == "" {
		var rnd [8]byte
		_, _ = rand.Read(rnd[:])
		id = "<" + hex.EncodeToString(rnd[:]) + "@" + h.set.cfg.System.InetAddr + ">"
	}
	field("Message-ID", id)
	field("In-Reply-To", str(hdr, "reply_id"))
	if fl := hdr.Get("field_list"); fl != nil && !goja.IsUndefined(fl) && !goja.IsNull(fl) {
		lo := fl.ToObject(h.vm)
		for i := int64(0); i < lo.Get("length").ToInteger(); i++ {
			f := lo.Get(fmt.Sprint(i)).ToObject(h.vm)
			if t := f.Get("type"); t != nil && t.ToInteger() == rfc822Header {
				if d := str(f, "data"); strings.Contains(d, ":") {
					b.WriteString(d + "\r\n")
				}
			}
		}
	}
	b.WriteString("\r\n")
	text := strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\n", "\r\n")
	b.WriteString(text)
	if !strings.HasSuffix(text, "\r\n") {
		b.WriteString("\r\n")
	}
	return fromJS(b.String())
}
