package main

import (
	"slices"
	"testing"

	"github.com/bbsmail/bbsmail/ctrl"
)

// A recycle names each setting it cannot apply, and tells SendMail's
// settings apart from the rest.
func TestRecycleNamesWhatNeedsRestart(t *testing.T) {
	t.Parallel()
	a := &ctrl.Config{}
	a.Mail.SMTPPort, a.Mail.POP3Port, a.Mail.Options = 25, 110, ctrl.AllowPOP3
	b := &ctrl.Config{}
	b.Mail = a.Mail
	b.Mail.SMTPPort, b.Mail.Options = 2525, ctrl.AllowPOP3|ctrl.TLSPOP3
	if got, want := needRestart(a, b), []string{"SMTPPort", "Options TLS_POP3"}; !slices.Equal(got, want) {
		t.Errorf("needRestart = %q, want %q", got, want)
	}
	u := &ctrl.Config{Mail: a.Mail}
	u.Unix.Daemonize, u.Unix.LogIdent = true, "bbs"
	if got, want := needRestart(a, u), []string{"[UNIX] Daemonize", "[UNIX] LogIdent"}; !slices.Equal(got, want) {
		t.Errorf("needRestart = %q, want %q", got, want)
	}
	pop := &ctrl.Config{}
	pop.Mail = a.Mail
	pop.Mail.POP3Port = 1110
	if sendMailKey(a) != sendMailKey(pop) {
		t.Error("a POP3 port change counts as a SendMail change")
	}
	b.Mail.RelayServer = "smarthost.example"
	if sendMailKey(a) == sendMailKey(b) {
		t.Error("RelayServer change not seen")
	}
	c := &ctrl.Config{}
	c.Mail = a.Mail
	c.Mail.MaxDeliveryAttempts = 3
	if sendMailKey(a) == sendMailKey(c) {
		t.Error("MaxDeliveryAttempts change not seen")
	}
	c.Mail = a.Mail
	c.Mail.Options |= ctrl.NoSendMail
	if sendMailKey(a) == sendMailKey(c) {
		t.Error("NO_SENDMAIL change not seen")
	}
}
