package test

import (
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// contribFilter is the shipped fail2ban filter.
const contribFilter = "../contrib/fail2ban/filter.d/bbsmail.conf"

// fail2banLog runs a server, provokes each line the filter bans on and
// returns the server's log: the real lines, not hand-written ones.
func fail2banLog(t *testing.T) string {
	t.Helper()
	b := guardBBS(t)
	b.glob["LoginAttemptHackThreshold"] = "2"
	coreWrite(t, filepath.Join(b.ctrl, "spambait.cfg"), "bait@bbs.test\n")
	b.start()
	b.addUser("Digital Man", "F2b-Pass-1")

	c := coreSMTPReady(t, b) // AUTH FAILURE (SMTP)
	c.send("EHLO client.example")
	c.expect("250 ")
	c.send("AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00Digital Man\x00Wrong-Guess-1")))
	c.expect("535 ")
	c.c.Close()

	c = coreStartTx(t, b, "spammer@example.net") // ILLEGAL RELAY ATTEMPT
	c.send("RCPT TO:<victim@example.com>")
	c.expect("5")
	c.c.Close()

	c = coreStartTx(t, b, "spammer@example.net") // SPAM BAIT TAKEN
	c.send("RCPT TO:<bait@bbs.test>")
	c.reply()
	c.c.Close()

	for _, pw := range []string{"Wrong-Guess-2", "Wrong-Guess-3"} { // AUTHENTICATION FAILURE, SUSPECTED LOGIN HACK ATTEMPT
		guardClient(t, "pop3-login", b.ports.POP3, guardStranger, "Digital Man", pw)
	}
	for _, s := range []string{"AUTH FAILURE", "ILLEGAL RELAY ATTEMPT", "SPAM BAIT", "!AUTHENTICATION FAILURE", "SUSPECTED LOGIN HACK ATTEMPT"} {
		coreWaitLog(b, s)
	}
	b.stop()
	return b.log.String()
}

// The fail2ban filter finds the attacking address in every kind of line
// it is meant for, as fail2ban-regex (Debian's fail2ban) reads it, and in
// none of the ordinary lines.
func TestFail2banFilter(t *testing.T) {
	f2b, err := exec.LookPath("fail2ban-regex")
	if err != nil {
		t.Skip("fail2ban-regex not installed (Debian: fail2ban): the filter is not checked")
	}
	log := fail2banLog(t)
	path := filepath.Join(t.TempDir(), "bbsmail.log")
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(f2b, "--print-all-matched", path, contribFilter).CombinedOutput()
	if err != nil {
		t.Fatalf("fail2ban-regex: %v\n%s", err, out)
	}
	hits := regexp.MustCompile(`(?m)^\|\s+(\d+)\) \[(\d+)\] `).FindAllStringSubmatch(string(out), -1)
	if len(hits) != 5 {
		t.Fatalf("fail2ban-regex lists %d failregex lines, want 5:\n%s", len(hits), out)
	}
	for _, h := range hits {
		if n, _ := strconv.Atoi(h[2]); n == 0 {
			t.Errorf("failregex %s matched no line of the log:\n%s", h[1], out)
		}
	}
	// Every matched line names one of the two test clients.
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "|  ") && strings.Contains(l, " [127.") && !strings.Contains(l, "[127.0.0.1]") && !strings.Contains(l, "[127.0.0.2]") {
			t.Errorf("matched line with an unexpected address: %s", l)
		}
	}
	if !regexp.MustCompile(`Lines: \d+ lines, 0 ignored, \d+ matched`).Match(out) {
		t.Errorf("fail2ban-regex summary:\n%s", out)
	}
	if t.Failed() {
		t.Logf("fail2ban-regex output:\n%s", out)
	}
}
