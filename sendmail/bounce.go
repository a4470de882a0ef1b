package sendmail

import (
	"bufio"
	"bytes"
	"fmt"
	"mime"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// maxBouncedMessage is the largest original attached whole to a notice;
// above it only the header is returned (RFC 3462 text/rfc822-headers), so
// a failed 20 MB mail does not come back as another 20 MB mail.
const maxBouncedMessage = 256 << 10

func formatID(id uint64) string { return strconv.FormatUint(id, 10) }

// isNotice reports whether msg is itself an automatic delivery report: a
// multipart/report, or mail from MAILER-DAEMON. Such mail is never bounced.
func isNotice(msg []byte) bool {
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(msg))).ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return false
	}
	if ct, _, err := mime.ParseMediaType(h.Get("Content-Type")); err == nil && ct == "multipart/report" {
		return true
	}
	return strings.Contains(strings.ToUpper(h.Get("From")), "MAILER-DAEMON@")
}

// bounceMessage builds the delivery-failure notice for failed recipients of
// j as a multipart/report (RFC 3464): a readable explanation, the
// machine-readable status, and the original message.
func (s *Sender) bounceMessage(j *job, failed []*rcptState) []byte {
	now := s.cfg.Now()
	first := failed[0].entry
	host := s.cfg.HostName
	boundary := fmt.Sprintf("bbsmail-%d-%d", first.ID, now.Unix())
	var b strings.Builder
	hdr := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	hdr("Date", now.Format(time.RFC1123Z))
	hdr("From", "Mail Delivery Subsystem <MAILER-DAEMON@"+host+">")
	hdr("To", "<"+j.reversePath+">")
	hdr("Subject", encodeHeader("Delivery failure: "+first.Subject))
	hdr("Message-ID", fmt.Sprintf("<bounce.%d.%d@%s>", first.ID, now.Unix(), host))
	hdr("Auto-Submitted", "auto-replied")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "multipart/report; report-type=delivery-status;\r\n\tboundary=\""+boundary+"\"")
	b.WriteString("\r\nThis is a MIME-formatted delivery failure notice.\r\n")

	fmt.Fprintf(&b, "\r\n--%s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n", boundary)
	attempts := first.Attempts + 1
	fmt.Fprintf(&b, "%s reporting delivery failure of your message after %d %s.\r\n", host, attempts, plural(attempts, "attempt"))
	if !first.Created.IsZero() {
		fmt.Fprintf(&b, "It was sent from <%s> on %s.\r\n", j.reversePath, first.Created.Format(time.RFC1123Z))
	}
	b.WriteString("\r\n")
	for _, r := range failed {
		fmt.Fprintf(&b, "Recipient: %s\r\n", r.path)
		if r.host != "" {
			fmt.Fprintf(&b, "Remote host: %s\r\n", r.host)
		}
		fmt.Fprintf(&b, "Reason: %s\r\n", failReason(r))
		b.WriteString("\r\n")
	}
	b.WriteString("The original message follows.\r\n")

	fmt.Fprintf(&b, "\r\n--%s\r\nContent-Type: message/delivery-status\r\n\r\n", boundary)
	fmt.Fprintf(&b, "Reporting-MTA: dns; %s\r\n", host)
	if !first.Created.IsZero() {
		fmt.Fprintf(&b, "Arrival-Date: %s\r\n", first.Created.Format(time.RFC1123Z))
	}
	for _, r := range failed {
		fmt.Fprintf(&b, "\r\nFinal-Recipient: rfc822; %s\r\nAction: failed\r\nStatus: %s\r\n", r.path, dsnStatus(r))
		if r.host != "" {
			fmt.Fprintf(&b, "Remote-MTA: dns; %s\r\n", r.host)
		}
		if r.reply != "" {
			fmt.Fprintf(&b, "Diagnostic-Code: smtp; %s\r\n", oneLine(r.reply))
		}
	}
	writeOriginal(&b, boundary, j.msg)
	fmt.Fprintf(&b, "\r\n--%s--\r\n", boundary)
	return []byte(b.String())
}

// writeOriginal attaches the original message, or only its header when it
// is large.
func writeOriginal(b *strings.Builder, boundary string, msg []byte) {
	ct := "message/rfc822"
	if len(msg) > maxBouncedMessage {
		ct = "text/rfc822-headers"
		if i := bytes.Index(msg, []byte("\r\n\r\n")); i >= 0 {
			msg = msg[:i+2]
		} else {
			msg = msg[:maxBouncedMessage]
		}
	}
	fmt.Fprintf(b, "\r\n--%s\r\nContent-Type: %s\r\n\r\n", boundary, ct)
	b.Write(msg)
	if !bytes.HasSuffix(msg, []byte("\r\n")) {
		b.WriteString("\r\n")
	}
}

func failReason(r *rcptState) string {
	switch {
	case r.reply != "":
		return r.reply
	case r.err != "":
		return r.err
	}
	return "delivery failed"
}

// dsnStatus is the RFC 3463 code of a failure: the server's own when it
// gave one, else 5.0.0 for a refusal and 4.4.7 ("delivery time expired")
// for a recipient that was given up after temporary failures.
func dsnStatus(r *rcptState) string {
	if r.code != "" && r.perm {
		return r.code
	}
	if r.perm {
		return "5.0.0"
	}
	return "4.4.7"
}

func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// encodeHeader RFC 2047-encodes a header value that is not plain ASCII.
func encodeHeader(v string) string {
	v = oneLine(v)
	for i := 0; i < len(v); i++ {
		if v[i] >= 0x80 {
			return mime.QEncoding.Encode("utf-8", v)
		}
	}
	return v
}
