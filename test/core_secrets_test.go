package test

import (
	"bytes"
	"encoding/base64"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Passwords never reach the disk or the log in a readable form: after
// users are added, a password is changed and every login method is used
// (with every debug log option on), no file of the BBS tree — the
// mailbase included — and no log line holds a password as typed, in lower
// case (the form Synchronet's CRAM-MD5 and APOP digests use), in base64,
// or inside an AUTH PLAIN payload. ctrl/secret.key, the key that protects
// the stored secrets, is readable by its owner only.
func TestCoreSecretsStayHidden(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.mail["Options"] = "ALLOW_POP3 | USE_SUBMISSION_PORT | TLS_SUBMISSION | TLS_POP3 | NO_HOST_LOOKUP | NO_SENDMAIL | " +
		"DEBUG_RX_HEADER | DEBUG_RX_BODY | DEBUG_TX | DEBUG_RX_RSP | DEBUG_POP3 | RELAY_TX | RELAY_AUTH_PLAIN"
	// The smarthost password is the sysop's to write in sbbs.ini; it must
	// stay there.
	const relayPW = "Relay-Secret-77"
	b.mail["RelayServer"], b.mail["RelayPort"] = "127.0.0.1", "1"
	b.mail["RelayUsername"], b.mail["RelayPassword"] = "bbsuser", relayPW
	b.start()
	if out := b.must("check"); strings.Contains(out, relayPW) || !strings.Contains(out, "RelayPassword") {
		t.Errorf("bbsmail check shows the smarthost password (or no RelayPassword line):\n%s", out)
	}
	const old, cur, other = "Zebra-Quartz-4417", "Walrus-Xylo-5823", "Mixed-CASE-Pw-88"
	b.addUser("Digital Man", old)
	b.addUser("Reader", other)
	if _, errOut, code := b.run(cur+"\n", "user", "passwd", "--password", "-", "Digital Man"); code != 0 {
		t.Fatalf("user passwd: %s", errOut)
	}

	python(t, "core_submit.py", "starttls", coreHost, itoa(b.ports.Submission), "Digital Man", cur,
		"digital.man@bbs.test", "reader@bbs.test", "reader@bbs.test", "friend@example.org")
	python(t, "core_submit.py", "implicit", coreHost, itoa(b.ports.SMTPS), "Reader", other,
		"reader@bbs.test", "digital.man@bbs.test")
	python(t, "core_submit.py", "badauth", coreHost, itoa(b.ports.Submission), "Digital Man", old)
	python(t, "core_pop3.py", coreHost, itoa(b.ports.POP3), "plain", "Digital Man", cur, "1")
	python(t, "core_pop3.py", coreHost, itoa(b.ports.POP3), "apop", "Reader", other, "3")
	// Passwords compare ignoring case, as in Synchronet.
	python(t, "core_pop3.py", coreHost, itoa(b.ports.POP3S), "ssl", "Reader", strings.ToLower(other), "3")
	b.stop()

	var secrets []string
	for _, pw := range []string{old, cur, other} {
		b64 := base64.StdEncoding.EncodeToString
		secrets = append(secrets, pw, strings.ToLower(pw), b64([]byte(pw)), b64([]byte(strings.ToLower(pw))))
	}
	for _, login := range []struct{ user, pw string }{{"Digital Man", cur}, {"Digital Man", old}, {"Reader", other}} {
		secrets = append(secrets, base64.StdEncoding.EncodeToString([]byte("\x00"+login.user+"\x00"+login.pw)))
	}
	if !b.logContains("AUTH FAILURE") || !b.logContains("SMTP RX: AUTH") {
		t.Fatalf("the debug log does not show the logins it is meant to keep secret:\n%s", b.log.String())
	}
	for _, s := range append(secrets, relayPW) {
		if strings.Contains(b.log.String(), s) {
			t.Errorf("the server log contains %q", s)
		}
	}

	files := 0
	err := filepath.WalkDir(b.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		for _, s := range secrets {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("%s contains %q", p, s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !fileExists(filepath.Join(b.root, "data", "bbsmail.db")) || files < 10 {
		t.Fatalf("searched %d files; the mailbase is not among them", files)
	}
	fi, err := os.Stat(filepath.Join(b.ctrl, "secret.key"))
	if err != nil {
		t.Fatalf("no ctrl/secret.key: %v", err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("ctrl/secret.key has mode %#o, want 0600", mode)
	}
}
