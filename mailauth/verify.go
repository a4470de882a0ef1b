package mailauth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"
	"time"

	"blitiri.com.ar/go/spf"
	"github.com/emersion/go-msgauth/authres"
	"github.com/emersion/go-msgauth/dkim"
)

// Resolver is the DNS the checks ask. A *net.Resolver whose Dial goes to
// the configured DNS server satisfies it; its errors are *net.DNSError,
// which is how the libraries tell "no such record" (none, permerror) from
// a timeout (temperror).
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

// DefaultTimeout bounds all the lookups for one message when a Checker
// has no Timeout.
const DefaultTimeout = 20 * time.Second

// maxSignatures is how many DKIM signatures of one message are verified;
// more are ignored, so a message cannot make the server do unbounded
// work.
const maxSignatures = 5

// Result is an RFC 8601 result value: pass, fail, softfail, neutral, none,
// temperror, permerror.
type Result = authres.ResultValue

// The result values used here.
const (
	None      Result = authres.ResultNone
	Pass      Result = authres.ResultPass
	Fail      Result = authres.ResultFail
	SoftFail  Result = authres.ResultSoftFail
	Neutral   Result = authres.ResultNeutral
	TempError Result = authres.ResultTempError
	PermError Result = authres.ResultPermError
)

// Input is what the checks look at: the client and the message as it
// arrived.
type Input struct {
	IP       string // the client's address
	Helo     string // its HELO/EHLO name
	MailFrom string // the reverse path, "" for the null path
	Msg      []byte // header and body, CRLF line ends
}

// Verdict is the outcome of the three checks.
type Verdict struct {
	SPF SPF
	// DKIM holds one result per signature verified; none when the
	// message has no signature.
	DKIM  []DKIM
	DMARC DMARC
}

// SPF is the RFC 7208 result for the MAIL FROM domain, or for the HELO
// name when the reverse path is null (§2.4).
type SPF struct {
	Result Result
	Domain string // the domain checked
	Helo   bool   // Domain is the HELO name
	Sender string // the identity as A-R writes it (smtp.mailfrom)
	Reason string // why, for temperror and permerror
}

// DKIM is the RFC 6376 result of one signature.
type DKIM struct {
	Result Result
	Domain string // d=
	Reason string // why it did not pass
}

// Checker runs the checks. It is safe for concurrent use.
type Checker struct {
	Resolver Resolver
	// Timeout bounds the lookups of one message; 0 means DefaultTimeout.
	// A check that runs out of time is a temperror.
	Timeout time.Duration
}

// Check runs SPF and DKIM side by side, then DMARC on their results.
// Failures to look something up are results (temperror, permerror), never
// errors: the caller always gets a verdict to record.
func (c *Checker) Check(ctx context.Context, in Input) Verdict {
	t := c.Timeout
	if t <= 0 {
		t = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, t)
	defer cancel()
	var v Verdict
	var wg sync.WaitGroup
	wg.Go(func() { v.SPF = c.checkSPF(ctx, in) })
	wg.Go(func() { v.DKIM = c.checkDKIM(ctx, in.Msg) })
	wg.Wait()
	v.DMARC = c.checkDMARC(ctx, in.Msg, v.SPF, v.DKIM)
	return v
}

func (c *Checker) checkSPF(ctx context.Context, in Input) SPF {
	s := SPF{Sender: in.MailFrom}
	if in.MailFrom == "" {
		// RFC 7208 §2.4: a null reverse path is checked as
		// postmaster@<HELO name>.
		s.Sender, s.Helo = "postmaster@"+in.Helo, true
	}
	if at := strings.LastIndexByte(s.Sender, '@'); at >= 0 {
		s.Domain = strings.ToLower(s.Sender[at+1:])
	}
	ip := net.ParseIP(in.IP)
	if ip == nil || s.Domain == "" {
		s.Result, s.Reason = None, "no identity to check"
		return s
	}
	res, err := spf.CheckHostWithSender(ip, in.Helo, s.Sender,
		spf.WithResolver(c.Resolver), spf.WithContext(ctx))
	s.Result = Result(res)
	if err != nil && (res == spf.TempError || res == spf.PermError) {
		s.Reason = reason(err)
	}
	return s
}

// reason is the text of err for a reader of the header: without the
// address of our resolver, which is nobody else's business ("lookup NAME
// on 10.0.0.53:53: no such host" becomes "lookup NAME: no such host").
func reason(err error) string {
	return resolverAddr.ReplaceAllString(err.Error(), "$1:")
}

var resolverAddr = regexp.MustCompile(`(lookup \S+) on \S+:`)

func (c *Checker) checkDKIM(ctx context.Context, msg []byte) []DKIM {
	verifs, err := dkim.VerifyWithOptions(bytes.NewReader(msg), &dkim.VerifyOptions{
		LookupTXT:        func(name string) ([]string, error) { return c.Resolver.LookupTXT(ctx, name) },
		MaxVerifications: maxSignatures,
	})
	if err != nil && !errors.Is(err, dkim.ErrTooManySignatures) {
		// The header itself could not be read.
		return []DKIM{{Result: PermError, Reason: reason(err)}}
	}
	out := make([]DKIM, 0, len(verifs))
	for _, v := range verifs {
		d := DKIM{Result: Pass, Domain: strings.ToLower(v.Domain)}
		switch e := v.Err; {
		case e == nil:
		case dkim.IsTempFail(e):
			d.Result, d.Reason = TempError, reason(e)
		case dkim.IsPermFail(e):
			d.Result, d.Reason = PermError, reason(e)
		default:
			d.Result, d.Reason = Fail, reason(e)
		}
		out = append(out, d)
	}
	return out
}

// Field is the Authentication-Results header field (RFC 8601 §2.2) for
// the verdict, with authservID (the server's host name) as the
// authentication service, folded one method per line and ending in CRLF.
func (v Verdict) Field(authservID string) []byte {
	parts := []authres.Result{&authres.SPFResult{Value: v.SPF.Result, Reason: safeValue(v.SPF.Reason),
		From: safeValue(spfFrom(v.SPF)), Helo: safeValue(spfHelo(v.SPF))}}
	if len(v.DKIM) == 0 {
		parts = append(parts, &authres.DKIMResult{Value: None})
	}
	for _, d := range v.DKIM {
		parts = append(parts, &authres.DKIMResult{Value: d.Result, Reason: safeValue(d.Reason), Domain: safeValue(d.Domain)})
	}
	parts = append(parts, &authres.DMARCResult{Value: v.DMARC.Result, Reason: safeValue(v.DMARC.Reason), From: safeValue(v.DMARC.From)})
	var b strings.Builder
	b.WriteString("Authentication-Results: " + authservID)
	for _, p := range parts {
		// Format each method apart so that folding never falls inside a
		// quoted reason.
		one := authres.Format(authservID, []authres.Result{p})
		b.WriteString(";\r\n\t" + strings.TrimSpace(strings.TrimPrefix(one, authservID+";")))
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}

// safeValue readies a property value or reason for the field. Most come
// from the client (HELO, MAIL FROM) or the sender's domain (From, d=, DNS
// text in a reason), and authres quotes a value without escaping a
// backslash in it: a quote or a backslash could end the quoted string and
// let the rest read as a result of its own ("x\";dkim=pass"). They and
// control and 8-bit bytes are written as "?"; spaces are kept (authres
// quotes a value that has one).
func safeValue(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < ' ' || c >= 0x7f || c == '"' || c == '\\' {
			b[i] = '?'
		}
	}
	return string(b)
}

func spfFrom(s SPF) string {
	if s.Helo {
		return ""
	}
	return s.Sender
}

func spfHelo(s SPF) string {
	if s.Helo {
		return s.Domain
	}
	return ""
}

// Summary is the verdict in one line for the log, such as "spf=pass
// dkim=pass (example.com) dmarc=pass (example.com)".
func (v Verdict) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "spf=%s", v.SPF.Result)
	if v.SPF.Domain != "" {
		fmt.Fprintf(&b, " (%s)", v.SPF.Domain)
	}
	if len(v.DKIM) == 0 {
		b.WriteString(" dkim=none")
	}
	for _, d := range v.DKIM {
		fmt.Fprintf(&b, " dkim=%s", d.Result)
		if d.Domain != "" {
			fmt.Fprintf(&b, " (%s)", d.Domain)
		}
	}
	fmt.Fprintf(&b, " dmarc=%s", v.DMARC.Result)
	if v.DMARC.From != "" {
		fmt.Fprintf(&b, " (%s", v.DMARC.From)
		if v.DMARC.Result == Fail {
			fmt.Fprintf(&b, " p=%s", v.DMARC.Policy)
		}
		b.WriteString(")")
	}
	return b.String()
}

// StripForged removes every Authentication-Results field whose
// authentication service is authservID (RFC 8601 §5: a server must not
// trust results claiming to be its own that it did not add), and reports
// how many it removed. msg is returned unchanged when there are none.
func StripForged(msg []byte, authservID string) ([]byte, int) {
	var out []byte
	removed := 0
	dropping := false
	pos := 0
	for pos < len(msg) {
		end := len(msg)
		if i := bytes.IndexByte(msg[pos:], '\n'); i >= 0 {
			end = pos + i + 1
		}
		line := msg[pos:end]
		text := bytes.TrimRight(line, "\r\n")
		if len(text) == 0 {
			break
		}
		if text[0] != ' ' && text[0] != '\t' {
			name, value, ok := bytes.Cut(text, []byte(":"))
			if !ok {
				break
			}
			dropping = strings.EqualFold(string(bytes.TrimSpace(name)), "Authentication-Results") &&
				strings.EqualFold(authservOf(msg[pos:], value), authservID)
			if dropping {
				removed++
				if out == nil {
					out = append(make([]byte, 0, len(msg)), msg[:pos]...)
				}
			}
		}
		if !dropping && out != nil {
			out = append(out, line...)
		}
		pos = end
	}
	if out == nil {
		return msg, 0
	}
	return append(out, msg[pos:]...), removed
}

// authservOf is the authserv-id of an Authentication-Results field whose
// first line's value is first and which starts rest (for folded fields).
func authservOf(rest, first []byte) string {
	value := string(first)
	// Unfold: the id may sit on a continuation line.
	for _, l := range strings.SplitAfter(string(rest), "\n")[1:] {
		if l == "" || (l[0] != ' ' && l[0] != '\t') {
			break
		}
		value += l
	}
	id, _, _ := strings.Cut(value, ";")
	id = stripComments(id)
	if f := strings.Fields(id); len(f) > 0 {
		return f[0]
	}
	return ""
}

// stripComments removes RFC 5322 comments, "(...)", nesting included.
func stripComments(s string) string {
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}
