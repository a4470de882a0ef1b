package envelope

import (
	"fmt"
	"time"
)

// SpamLogEntry is one entry of spam.log in Synchronet's format: CRLF lines
// and a blank line after each entry, so existing log readers work. prot
// is "SMTP" (or what a mail processor names), sender the reverse path (or
// the client's host name before MAIL). Host, sender, recipient and reason
// hold client text (subjects and names reach the reason): each goes
// through LogText, so a line end cannot forge an entry and a terminal
// control does not reach the sysop's screen.
func SpamLogEntry(prot, action, host, ip, sender, to, reason string, at time.Time) string {
	from := "From: " + sender
	if to != "" {
		from += " to: " + to
	}
	return fmt.Sprintf("SUSPECTED %s SPAM %s on %s\r\nHost: %s [%s]\r\n%s\r\nReason: %s\r\n\r\n",
		LogText(prot), LogText(action), at.Format("Mon Jan 02 2006 15:04:05"), LogText(host), LogText(ip),
		LogText(from), LogText(reason))
}
