package smtpd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"net/mail"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/netutil"
)

// body is the message text read after DATA.
type body struct {
	buf     *textBuf // the text kept; nil once it is given up
	size    int64    // octets received, CR LF line ends counted
	tooLong bool     // a line was over 1000 octets
	tooBig  bool     // size went over MaxMsgSize
	// noRoom is set when the server's budget for message text in memory
	// (Config.MaxDataInFlight) had no room for the message.
	noRoom bool
	// bareDot is set when a lone dot arrived with a bare CR or LF on
	// either side. Other MTAs may read such a line as the end of the data
	// and the text after it as new commands (SMTP smuggling), so the
	// message is refused.
	bareDot bool
}

// text returns the message text kept, valid until drop.
func (b *body) text() []byte {
	if b.buf == nil {
		return nil
	}
	return b.buf.bytes()
}

// drop gives the text's memory back; nothing of it is kept from then on.
func (b *body) drop() {
	b.buf.free()
	b.buf = nil
}

// data answers DATA (RFC 5321 §4.1.1.4): read the text, check it, deliver
// it; finish's reply is the answer, and the 250 in it only follows a
// delivery that committed. The text's memory is given back before the
// reply goes out.
func (s *session) data(arg string) error {
	switch {
	case arg != "":
		return syntaxReply("DATA")
	case !s.tx.active:
		return replyNeedMAIL
	case s.tx.count == 0:
		return replyNeedRCPT
	}
	defer s.resetTx()
	b := &body{buf: newTextBuf(&s.srv.budget, s.cfg.MaxDataInFlight, s.cfg.MaxMsgSize)}
	defer b.drop()
	if !b.buf.grow(0) { // the first share of the budget, before 354
		s.log.Warn(fmt.Sprintf("SMTP %s [%s] DATA deferred: too much message text in memory (MaxDataInFlight %d)", s.host, s.ip, s.cfg.MaxDataInFlight))
		return replyNoRoom
	}
	s.send(replyGoAhead)
	if err := s.readBody(b); err != nil {
		s.log.Info(fmt.Sprintf("SMTP %s [%s] message from %s not received: %v", s.host, s.ip, angle(s.tx.reversePath), err))
		return s.readFailed(err)
	}
	s.messageCount++
	return s.finish(b)
}

// readBody reads the message text up to the lone dot into b, undoing dot
// stuffing (RFC 5321 §4.5.2). Every line is kept with CR LF: a bare LF
// ends a line, and so does a bare CR (RFC 5322 §2.3 allows CR and LF only
// together; old BBS and Mac software ends lines with CR alone), so the
// text stored holds no bare CR or LF for SendMail to pass on. Text over
// the limits is read to its end and dropped as it arrives, so the client
// sees the refusal as the answer to its final dot.
func (s *session) readBody(b *body) error {
	inHeader := true
	prevCRLF := true // the DATA command ended the line before
	for {
		line, err := s.readLine(maxTextLine)
		if errors.Is(err, errLineTooLong) {
			b.tooLong = true
			b.drop()
			prevCRLF = true
			continue
		}
		if err != nil {
			return err
		}
		crlf := s.lineCRLF
		if len(line) == 1 && line[0] == '.' && crlf && prevCRLF {
			break // only <CRLF>.<CRLF> ends the data (RFC 5321 §4.1.1.4)
		}
		if loneDot(line) {
			b.bareDot = true
		}
		prevCRLF = crlf
		if len(line) > 0 && line[0] == '.' {
			line = line[1:]
		}
		s.traceBody(&inHeader, line)
		s.keepLine(b, line)
	}
	return nil
}

// loneDot reports whether a line as received (without its LF, and
// without the CR before it when there was one) holds a dot standing alone
// between line ends of any kind, CR and LF included.
func loneDot(line []byte) bool {
	for seg := range bytes.SplitSeq(line, []byte("\r")) {
		if len(seg) == 1 && seg[0] == '.' {
			return true
		}
	}
	return false
}

// keepLine adds one line, dot-unstuffed, to the text: CRs at its end are
// dropped (Windows text mode turns CR LF into CR CR LF), and a CR inside
// it ends a line.
func (s *session) keepLine(b *body, line []byte) {
	line = bytes.TrimRight(line, "\r")
	for {
		seg, rest, more := bytes.Cut(line, []byte("\r"))
		b.size += int64(len(seg)) + 2
		if s.cfg.MaxMsgSize > 0 && b.size > s.cfg.MaxMsgSize && !b.tooBig {
			b.tooBig = true
			b.drop()
		}
		if b.buf != nil && !b.buf.add(seg) {
			b.noRoom = true
			b.drop()
		}
		if !more {
			return
		}
		line = rest
	}
}

// traceBody logs received text lines when DEBUG_RX_HEADER/BODY are set.
func (s *session) traceBody(inHeader *bool, line []byte) {
	if *inHeader && len(line) == 0 {
		*inHeader = false
		return
	}
	if (*inHeader && s.cfg.DebugRxHeader) || (!*inHeader && s.cfg.DebugRxBody) {
		s.log.Debug("SMTP RX: " + string(line))
	}
}

// finish runs the end-of-data stages in order: limits, empty text,
// telegram delivery, header checks, SPF/DKIM/DMARC, DNSBL ignore or tag,
// spam bait and the spam hash database, mail processors, trace headers,
// Deliver. It returns the final reply: replyStored only once Deliver
// returned nil. Notifications are left to run after the reply is sent.
func (s *session) finish(b *body) error {
	switch {
	case b.tooLong:
		s.log.Warn(fmt.Sprintf("!SMTP %s [%s] message from %s refused: line too long", s.host, s.ip, angle(s.tx.reversePath)))
		return replyTextTooLong
	case b.tooBig:
		s.log.Warn(fmt.Sprintf("!SMTP %s [%s] message from %s refused: size %d over %d", s.host, s.ip, angle(s.tx.reversePath), b.size, s.cfg.MaxMsgSize))
		return replyTooBig(b.size, s.cfg.MaxMsgSize)
	case b.bareDot:
		s.log.Warn(fmt.Sprintf("!SMTP %s [%s] message from %s refused: lone dot with a bare CR or LF (possible SMTP smuggling)", s.host, s.ip, angle(s.tx.reversePath)))
		return replyBareDot
	case b.noRoom:
		s.log.Warn(fmt.Sprintf("!SMTP %s [%s] message from %s deferred: too much message text in memory (MaxDataInFlight %d)", s.host, s.ip, angle(s.tx.reversePath), s.cfg.MaxDataInFlight))
		return replyNoRoom
	case len(b.text()) == 0:
		return replyNoText
	case s.tx.telegram != "":
		// A telegram has no header: only its reverse path can be a twit.
		if err := s.checkTwit(headerInfo{}); err != nil {
			return err
		}
		return s.sendTelegrams(b.text())
	}
	msg, hdr := scanHeader(b.text())
	if err := s.checkHeader(hdr); err != nil {
		return err
	}
	plain := msg
	msg, authSpam, err := s.mailAuth(msg) // mailauth.go: SPF, DKIM, DMARC on the text as it came
	if err != nil {
		return err
	}
	msg, tagged, drop := s.dnsblMessage(msg, hdr)
	msg, tagged = s.tagAuthSpam(msg, authSpam, tagged)
	if s.spamMessage(plain, drop) { // spam.go: bait, known spam, DNSBL_IGNORE
		return replyOK // dropped: the sender is not to know
	}
	env := s.envelope(hdr.spam || tagged)
	p, err := s.runProcessors(env, msg, hdr) // mailproc.ini, before the trace
	if err != nil {
		return err
	}
	if p.taken {
		return replyTaken(env.ID)
	}
	msg = p.msg
	now := time.Now()
	remote := 0
	for _, r := range env.Rcpts {
		if r.Kind == envelope.KindRemote {
			remote++
		}
	}
	for i, r := range env.Rcpts {
		fp := r.ForwardPath
		if r.Kind == envelope.KindRemote && remote > 1 {
			// Copies leaving together share one trace without a "for"
			// clause (as Postfix does), so SendMail can carry them in one
			// transaction without telling one recipient about the others.
			fp = ""
		}
		env.Rcpts[i].Trace = append(s.trace(fp, now), p.prefix...)
	}
	if len(env.Rcpts) > 0 { // every recipient may have been a drop
		if err := s.deps.Maildrop.Deliver(s.ctx, env, msg); err != nil {
			return fmt.Errorf("deliver %s: %w", env.ID, err)
		}
	}
	s.log.Info(fmt.Sprintf("SMTP %s [%s] Received mail from %s to %s (%d bytes)",
		s.host, s.ip, angle(s.tx.reversePath), rcptList(env.Rcpts), len(msg)), "msg", env.ID)
	from := hdr.from
	if from == "" {
		from = angle(s.tx.reversePath)
	}
	s.afterReply = func() { s.notify(from, env.Rcpts) } // the client has its answer first
	return replyStored(env.ID)
}

// checkHeader runs the header stages of the end of data in order:
// twitlist.cfg, the Received count, subject.can and email.can, a missing
// From field, the From and Sender addresses.
func (s *session) checkHeader(hdr headerInfo) error {
	if err := s.checkTwit(hdr); err != nil {
		return err
	}
	if hdr.received > maxReceived {
		s.log.Warn(fmt.Sprintf("!SMTP %s [%s] message from %s refused: %d Received headers (mail loop)", s.host, s.ip, angle(s.tx.reversePath), hdr.received))
		return replyMailLoop
	}
	if err := s.checkHeaderLists(hdr); err != nil {
		return err
	}
	if !hdr.hasFrom && s.auth == nil {
		return replyNoFrom
	}
	return s.checkHeaderSenders(hdr) // senders.go
}

// envelope builds the Envelope handed to Deliver; drop recipients (spam
// bait) counted in RCPT but are left out here.
func (s *session) envelope(spam bool) *envelope.Envelope {
	env := &envelope.Envelope{
		ID:          fmt.Sprintf("%s.%d", s.id, s.messageCount),
		ReversePath: s.tx.reversePath,
		Helo:        s.helo,
		ClientIP:    s.ip,
		ClientHost:  s.host,
		ServerHost:  s.cfg.HostName,
		Port:        s.port,
		Proto:       s.proto(),
		TLS:         s.tls,
		Auth:        s.auth,
		Spam:        spam,
		Received:    time.Now(),
	}
	for _, r := range s.tx.rcpts {
		if r.Kind != envelope.KindDrop {
			env.Rcpts = append(env.Rcpts, r)
		}
	}
	return env
}

// trace is one recipient's Return-Path and Received header (RFC 5321
// §4.4).
func (s *session) trace(forwardPath string, now time.Time) []byte {
	return traceBlock(traceInfo{
		reversePath: s.tx.reversePath,
		clientHost:  s.host,
		helo:        s.helo,
		clientIP:    s.ip,
		serverHost:  s.cfg.HostName,
		serverIP:    s.serverIP,
		version:     s.cfg.Version,
		proto:       s.proto(),
		forwardPath: forwardPath,
		date:        now,
	})
}

type traceInfo struct {
	reversePath, clientHost, helo, clientIP string
	serverHost, serverIP, version, proto    string
	forwardPath                             string
	date                                    time.Time
}

// traceBlock formats the trace header block. Continuation lines are
// indented by ten spaces, as Synchronet's are.
func traceBlock(t traceInfo) []byte {
	const indent = "\r\n          "
	var b strings.Builder
	fmt.Fprintf(&b, "Return-Path: <%s>\r\n", t.reversePath)
	fmt.Fprintf(&b, "Received: from %s (%s [%s])", t.clientHost, heloToken(t.helo), ipLiteral(t.clientIP))
	fmt.Fprintf(&b, "%sby %s [%s] (bbsmail %s) with %s", indent, t.serverHost, ipLiteral(t.serverIP), t.version, t.proto)
	if t.forwardPath != "" {
		fmt.Fprintf(&b, "%sfor %s;", indent, t.forwardPath)
	} else {
		b.WriteString(";")
	}
	fmt.Fprintf(&b, "%s%s\r\n", indent, t.date.Format(time.RFC1123Z))
	return []byte(b.String())
}

// ipLiteral writes an address the way RFC 5321 §4.1.3 does.
func ipLiteral(ip string) string {
	if strings.Contains(ip, ":") {
		return "IPv6:" + ip
	}
	return ip
}

// maxHeloToken bounds the HELO name in the Received header: a domain
// is at most 255 octets (RFC 5321 §4.5.3.1.2).
const maxHeloToken = 255

// heloToken is the client's HELO/EHLO argument as the Received header's
// comment may hold it: a well-formed address literal (RFC 5321 §4.1.3) as
// it came, otherwise only the characters of a domain (letters, digits,
// "-", "." and the "_" of many Windows hosts), every other byte replaced
// by "?" as Postfix does. The client then cannot close the comment, write
// a literal of its own beside the real address, end the from clause with
// ";" or put 8-bit bytes in the header. A longer name is cut and ends in
// "...".
func heloToken(helo string) string {
	if isAddressLiteral(helo) {
		return helo
	}
	b := []byte(helo)
	for i, c := range b {
		if !isDomainByte(c) {
			b[i] = '?'
		}
	}
	if len(b) > maxHeloToken {
		b = append(b[:maxHeloToken-3], "..."...)
	}
	return string(b)
}

func isDomainByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_'
}

// isAddressLiteral reports whether s is "[IPv4]" or "[IPv6:addr]" (RFC
// 5321 §4.1.3), each address well-formed.
func isAddressLiteral(s string) bool {
	inner, ok := strings.CutPrefix(s, "[")
	if !ok {
		return false
	}
	if inner, ok = strings.CutSuffix(inner, "]"); !ok {
		return false
	}
	if len(inner) > 5 && strings.EqualFold(inner[:5], "IPv6:") { // ABNF strings ignore case
		ip, err := netip.ParseAddr(inner[5:])
		return err == nil && ip.Is6() && ip.Zone() == ""
	}
	ip, err := netip.ParseAddr(inner)
	return err == nil && ip.Is4()
}

// headerInfo is what the server needs from the message header.
// maxReceived is the number of Received headers above which a message is
// taken to be looping (RFC 5321 §6.3 suggests 100).
const maxReceived = 100

type headerInfo struct {
	received int // Received header fields
	hasFrom  bool
	from     string // the From: address, for notifications and filters
	fromName string // the From: display name, RFC 2047 words decoded
	subject  string // the Subject, unfolded, RFC 2047 words decoded
	spam     bool   // X-Spam-Flag: YES
	// to holds the To: display names and addresses, for email.can.
	to []string
	// receivedFields are the unfolded Received values, newest first, for
	// DNSBL_CHKRECVHDRS (at most maxReceived are kept).
	receivedFields []string
	// fromFields and senderFields are the unfolded From and Sender
	// values, every one of them, for the sender checks (senders.go).
	fromFields, senderFields []string
}

// scanHeader reads the header section (RFC 5322 §2.2) of msg, removes any
// Return-Path field (the server writes its own, RFC 5321 §4.4) and reports
// the fields the server acts on, unfolded (§2.2.3). A field is removed in
// place, without copying the message: the header before it moves up over
// it and the text returned is the tail of msg, whose first octets are then
// left over. msg is returned unchanged when nothing was removed.
func scanHeader(msg []byte) ([]byte, headerInfo) {
	var info headerInfo
	var field, value []byte // the field being read and its unfolded value
	dropping := false
	cut, dropStart := 0, 0 // msg[cut:] is the text kept; where the dropped field starts
	pos := 0
	for pos < len(msg) {
		line, end := lineAt(msg, pos)
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			break // end of header
		}
		if line[0] != ' ' && line[0] != '\t' {
			name, v, ok := bytes.Cut(line, []byte(":"))
			if !ok { // not a header field: the body starts without a blank line
				break
			}
			inspectField(&info, field, value)
			if dropping {
				cut = removeSpan(msg, cut, dropStart, pos)
			}
			field, value = name, append(value[:0], bytes.TrimRight(v, "\r\n")...)
			dropping = headerIs(name, "Return-Path")
			dropStart = pos
		} else if field != nil {
			value = append(value, bytes.TrimRight(line, "\r\n")...)
		}
		pos = end
	}
	inspectField(&info, field, value)
	if dropping {
		cut = removeSpan(msg, cut, dropStart, pos)
	}
	return msg[cut:], info
}

// removeSpan removes msg[from:to] from the text msg[cut:] by moving the
// octets before it up, and returns the new cut. Only header octets move.
func removeSpan(msg []byte, cut, from, to int) int {
	n := to - from
	copy(msg[cut+n:to], msg[cut:from])
	return cut + n
}

func headerIs(name []byte, want string) bool {
	return strings.EqualFold(strings.TrimSpace(string(name)), want)
}

// inspectField records what the server needs of one unfolded field; name
// is nil before the first field.
func inspectField(info *headerInfo, name, value []byte) {
	switch {
	case name == nil:
	case headerIs(name, "From"):
		info.hasFrom = true
		v := strings.TrimSpace(string(value))
		info.fromFields = append(info.fromFields, v)
		if a, err := mail.ParseAddress(v); err == nil {
			info.from, info.fromName = a.Address, cleanArg(a.Name)
		} else {
			info.from, info.fromName = cleanArg(v), ""
		}
	case headerIs(name, "Sender"):
		info.senderFields = append(info.senderFields, strings.TrimSpace(string(value)))
	case headerIs(name, "Subject"):
		// Spammers encode subjects (RFC 2047) to slip past plain-text
		// lists; an unknown charset leaves the text as it came.
		v := strings.TrimSpace(string(value))
		if d, err := new(mime.WordDecoder).DecodeHeader(v); err == nil {
			v = d
		}
		info.subject = cleanArg(v)
	case headerIs(name, "Received"):
		info.received++
		if len(info.receivedFields) < maxReceived {
			info.receivedFields = append(info.receivedFields, string(value))
		}
	case headerIs(name, "To"):
		info.to = append(info.to, headerAddrs(value)...)
	case headerIs(name, "X-Spam-Flag"):
		v := strings.TrimSpace(string(value))
		info.spam = info.spam || strings.HasPrefix(strings.ToUpper(v), "YES")
	}
}

// sendTelegrams delivers a SEND/SOML/SAML message as a short message to
// each recipient; it never becomes mail.
func (s *session) sendTelegrams(text []byte) error {
	msg := s.telegramText(text)
	for _, r := range s.tx.rcpts {
		if err := s.deps.Telegrams.SendTelegram(s.ctx, r.User, msg); err != nil {
			return fmt.Errorf("telegram to user #%d: %w", r.User, err)
		}
	}
	s.log.Info(fmt.Sprintf("SMTP %s [%s] %s telegram from %s to %s",
		s.host, s.ip, s.tx.telegram, angle(s.tx.reversePath), rcptList(s.tx.rcpts)))
	return replyOK
}

// telegramText is "Instant Message from <sender>", with the client's IP and
// host added when the sender's domain doesn't resolve to the client, a
// colon, and the text.
func (s *session) telegramText(text []byte) string {
	sender := s.tx.reversePath
	if sender == "" {
		sender = "<>"
	}
	head := "Instant Message from " + sender
	if !s.senderMatchesClient() {
		head += fmt.Sprintf(" [%s] (%s)", s.ip, s.host)
	}
	body := strings.ToValidUTF8(string(text), "?") // BBS clients may send CP437
	msg := head + ":\r\n" + terminalSafe(body)
	if len(msg) > maxTelegram {
		// Cut at a character boundary: a telegram is a short message, and
		// the BBS shows it on a terminal.
		cut := maxTelegram - len(" [...]")
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + " [...]"
	}
	return msg
}

// maxTelegram is the longest telegram text kept (the mailbase's limit).
const maxTelegram = 4096

// senderMatchesClient reports whether the reverse path's domain resolves
// to the client's IP.
func (s *session) senderMatchesClient() bool {
	_, domain := envelope.SplitAddress(s.tx.reversePath)
	if domain == "" {
		return false
	}
	ctx, cancel := context.WithTimeout(s.ctx, min(s.cfg.MaxInactivity, 30*time.Second))
	defer cancel()
	addrs, err := s.cfg.LookupHost(ctx, domain)
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if netutil.SameIP(a, s.ip) {
			return true
		}
	}
	return false
}

// terminalSafe drops the control characters a stranger could use to drive
// the BBS user's terminal (escape sequences, bells, C1 controls), keeping
// line ends and tabs: a telegram is shown on the terminal as it is.
func terminalSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\r' || r == '\n' || r == '\t':
			return r
		case r < 0x20 || (r >= 0x7f && r <= 0x9f):
			return -1
		}
		return r
	}, s)
}

func angle(path string) string { return "<" + path + ">" }

func rcptList(rcpts []envelope.Rcpt) string {
	names := make([]string, 0, len(rcpts))
	for _, r := range rcpts {
		n := r.ForwardPath
		if n == "" {
			n = r.To
		}
		names = append(names, n)
	}
	return strings.Join(names, ", ")
}

// lineAt returns the line of msg that starts at pos, with its line end,
// and the position of the next line.
func lineAt(msg []byte, pos int) ([]byte, int) {
	end := bytes.IndexByte(msg[pos:], '\n')
	if end < 0 {
		return msg[pos:], len(msg)
	}
	return msg[pos : pos+end+1], pos + end + 1
}
