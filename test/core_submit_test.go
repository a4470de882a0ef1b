package test

import (
	"strings"
	"testing"
)

// A mail client on the submission port 587 upgrades with STARTTLS and logs
// in with PLAIN, LOGIN or CRAM-MD5; it can't send before logging in (530)
// nor as somebody else (550); mail it sends to another domain is accepted
// and waits in the outbound queue (SendMail is off in the test tree).
func TestCoreSubmissionSTARTTLS(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.start()
	b.addUser("Digital Man", "Sub-Secret-1")
	b.addUser("Other User", "Other-Pass-1")
	b.addUser("Reader", "Reader-Pass-1")

	out := python(t, "core_submit.py", "starttls", coreHost, itoa(b.ports.Submission), "Digital Man", "Sub-Secret-1",
		"digital.man@bbs.test", "other.user@bbs.test", "reader@bbs.test", "friend@example.org")
	t.Log(out)

	rows := coreMailList(b, "Reader")
	for _, mech := range []string{"PLAIN", "LOGIN", "CRAM-MD5"} {
		if !coreHasSubject(rows, "submitted with "+mech) {
			t.Errorf("the message sent after AUTH %s is not in Reader's mailbox:\n%s", mech, strings.Join(rows, "\n"))
		}
	}
	if len(rows) != 3 {
		t.Errorf("Reader's mailbox holds %d messages, want 3:\n%s", len(rows), strings.Join(rows, "\n"))
	}
	q := coreQueueList(b)
	if !strings.Contains(q, "friend@example.org") || !strings.Contains(q, "1 entries") {
		t.Errorf("queue list does not show the one relayed message:\n%s", q)
	}
	if rows := coreMailList(b, "Other User"); len(rows) != 0 {
		t.Errorf("Other User received mail:\n%s", strings.Join(rows, "\n"))
	}
}

// Port 465 speaks TLS from the first byte: smtplib.SMTP_SSL logs in and
// sends; a wrong password on 587 is refused with 535 and logged as an AUTH
// FAILURE without the password.
func TestCoreSubmissionImplicitTLS(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.start()
	b.addUser("Digital Man", "Sub-Secret-2")
	b.addUser("Reader", "Reader-Pass-2")

	t.Log(python(t, "core_submit.py", "implicit", coreHost, itoa(b.ports.SMTPS), "Digital Man", "Sub-Secret-2",
		"digital.man@bbs.test", "reader@bbs.test"))
	if rows := coreMailList(b, "Reader"); !coreHasSubject(rows, "submitted over implicit TLS") {
		t.Fatalf("the message sent on port 465 is not in Reader's mailbox:\n%s", strings.Join(rows, "\n"))
	}

	t.Log(python(t, "core_submit.py", "badauth", coreHost, itoa(b.ports.Submission), "Digital Man", "Wrong-Guess-7"))
	coreWaitLog(b, "AUTH FAILURE")
	if strings.Contains(b.log.String(), "Wrong-Guess-7") {
		t.Fatal("the server log contains the wrong password")
	}
}
