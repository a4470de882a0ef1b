package test

import (
	"regexp"
	"testing"
	"time"
)

// The log keeps the wording of Synchronet's mail server, so the lines
// sysops grep for and the fail2ban filters written for Synchronet keep
// matching: connections accepted, logins, failed logins with the client's
// address in brackets, and relay attempts.
func TestCoreLogWording(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.start()
	b.addUser("Digital Man", "Log-Pass-1")

	python(t, "core_pop3.py", coreHost, itoa(b.ports.POP3), "plain", "Digital Man", "Log-Pass-1", "0")
	python(t, "core_pop3.py", coreHost, itoa(b.ports.POP3), "plain", "Digital Man", "Not-It-1", "refused")
	python(t, "core_submit.py", "badauth", coreHost, itoa(b.ports.Submission), "Digital Man", "Not-It-2")
	c := coreStartTx(t, b, "spammer@example.net")
	c.send("RCPT TO:<victim@example.com>")
	c.expect("550 ")

	const stamp = `(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d `
	for _, line := range []string{
		`Info +SMTP connection accepted .*from: 127\.0\.0\.1 port \d+`,
		`Info +POP3 connection accepted from: 127\.0\.0\.1 port \d+`,
		`Info +POP3 Digital Man logged in via USER/PASS`,
		`Warning +POP3 \[127\.0\.0\.1\] !?AUTHENTICATION FAILURE \(USER/PASS\) for user: Digital Man`,
		`Warning +!?SMTP .*\[127\.0\.0\.1\] !?AUTH FAILURE for user 'Digital Man'`,
		`Warning +!?SMTP .*\[127\.0\.0\.1\] !?ILLEGAL RELAY ATTEMPT from spammer@example\.net to victim@example\.com`,
	} {
		re := regexp.MustCompile(stamp + line)
		waitFor(t, 10*time.Second, "a log line matching "+line, func() bool { return re.MatchString(b.log.String()) })
	}
}
