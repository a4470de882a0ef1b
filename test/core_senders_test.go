package test

import (
	"strings"
	"testing"
)

// An authenticated user sends only as themselves, on 587 (STARTTLS) and on
// 25 after AUTH: another user's or the sysop's address is refused as the
// envelope sender (550), as the From address, with or without a display
// name, and as the Sender address (550 at the end of DATA); with
// ALLOW_RELAY a user with the relay right may use a foreign domain. Without
// AUTH a From display name forging a local address is refused with 554.
func TestCoreSenderChecks(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.mail["Options"] = "ALLOW_POP3 | USE_SUBMISSION_PORT | TLS_SUBMISSION | TLS_POP3 | NO_HOST_LOOKUP | NO_SENDMAIL | ALLOW_RELAY"
	b.start()
	b.addUser("Sysop", "Sysop-Pass-9")
	b.addUser("Digital Man", "Sub-Secret-9")
	b.addUser("Other User", "Other-Pass-9")
	b.addUser("Reader", "Reader-Pass-9")

	for _, port := range []int{b.ports.Submission, b.ports.SMTP} {
		t.Log(python(t, "core_senders.py", "auth", coreHost, itoa(port), "Digital Man", "Sub-Secret-9",
			"digital.man@bbs.test", "other.user@bbs.test", "Sysop@bbs.test", "reader@bbs.test", "dm@own-domain.example"))
	}
	t.Log(python(t, "core_senders.py", "unauth", coreHost, itoa(b.ports.SMTP), "reader@bbs.test", "Sysop@bbs.test"))

	rows := coreMailList(b, "Reader")
	if len(rows) != 5 {
		t.Errorf("Reader's mailbox holds %d messages, want the 5 accepted ones:\n%s", len(rows), strings.Join(rows, "\n"))
	}
	for _, r := range rows {
		if !strings.Contains(r, "accepted:") {
			t.Errorf("a refused message reached Reader's mailbox: %s", r)
		}
	}
	for _, who := range []string{"Sysop", "Other User"} {
		if rows := coreMailList(b, who); len(rows) != 0 {
			t.Errorf("%s received mail:\n%s", who, strings.Join(rows, "\n"))
		}
	}
	coreWaitLog(b, "FORGED mail header 'FROM' field")
}
