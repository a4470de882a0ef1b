package test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// guardStranger is on loopback but is not the server's own address
// (127.0.0.1): the server treats it like a client on another machine.
const guardStranger = "127.0.0.2"

// guardClient runs one real client (Python's poplib or smtplib) from the
// local address src and returns what it printed.
func guardClient(t *testing.T, action string, port int, src string, args ...string) string {
	t.Helper()
	all := append([]string{action, coreHost, itoa(port), src}, args...)
	return strings.TrimSpace(python(t, "guard_clients.py", all...))
}

// guardBBS is a test tree where nobody is in ipfilter_exempt.cfg (the
// stock file exempts 127.0.0.0/8) and failed logins are judged quickly.
func guardBBS(t *testing.T) *bbs {
	t.Helper()
	b := newBBS(t)
	coreWrite(t, filepath.Join(b.ctrl, "ipfilter_exempt.cfg"), "; nobody is exempt here\n")
	b.glob["LoginAttemptThrottle"] = "1"
	b.glob["SemFileCheckFrequency"] = "1"
	return b
}

// Password guessing on POP3 gets the guesser banned from POP3 and SMTP
// alike: after LoginAttemptTempBanThreshold bad logins SMTP closes the
// connection without a word and POP3 says "-ERR Access denied.";
// hack.log records the attempts without the passwords, and ip.can gains
// the address. The server's own address is never banned. The clear
// semaphore lifts the ban.
func TestGuardBanAcrossProtocols(t *testing.T) {
	t.Parallel()
	b := guardBBS(t)
	b.glob["LoginAttemptHackThreshold"] = "2"
	b.glob["LoginAttemptTempBanThreshold"] = "3"
	b.glob["LoginAttemptTempBanDuration"] = "10m"
	b.glob["LoginAttemptFilterThreshold"] = "3"
	b.glob["LoginAttemptFilterDuration"] = "1h"
	b.start()
	b.addUser("Digital Man", "Guard-Pass-1")

	guesses := []string{"Wrong-Guess-1", "Wrong-Guess-2", "Wrong-Guess-3"}
	for _, pw := range guesses {
		for _, src := range []string{guardStranger, coreHost} {
			if out := guardClient(t, "pop3-login", b.ports.POP3, src, "Digital Man", pw); !strings.HasPrefix(out, "ERR -ERR [AUTH]") {
				t.Fatalf("bad login from %s: %q, want an authentication failure", src, out)
			}
		}
	}
	if out := guardClient(t, "smtp-greet", b.ports.SMTP, guardStranger); out != "CLOSED" {
		t.Errorf("banned client on SMTP: %q, want a silent close", out)
	}
	if out := guardClient(t, "pop3-greet", b.ports.POP3, guardStranger); out != "ERR -ERR Access denied." {
		t.Errorf("banned client on POP3: %q, want -ERR Access denied.", out)
	}
	if out := guardClient(t, "pop3-login", b.ports.POP3, coreHost, "Digital Man", "Guard-Pass-1"); out != "OK 0 messages" {
		t.Errorf("the server's own address after bad logins: %q, want a login", out)
	}
	coreWaitLog(b, "TEMPORARY BAN")

	hack, err := os.ReadFile(filepath.Join(b.root, "data", "hack.log"))
	if err != nil {
		t.Fatalf("hack.log: %v", err)
	}
	entry := regexp.MustCompile(`SUSPECTED POP3 LOGIN HACK ATTEMPT for user 'Digital Man' on [A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d{4} \d\d:\d\d:\d\d\r\n` +
		`Using port \d+ at <no name> \[127\.0\.0\.2\]\r\nDetails: USER/PASS password of 13 characters\r\n\r\n`)
	if n := len(entry.FindAll(hack, -1)); n != 2 {
		t.Errorf("hack.log has %d entries for 127.0.0.2, want 2 (attempts 2 and 3):\n%s", n, hack)
	}
	for _, pw := range guesses {
		if strings.Contains(string(hack), pw) {
			t.Fatalf("hack.log holds the password %q", pw)
		}
	}

	ipcan, err := os.ReadFile(filepath.Join(b.root, "text", "ip.can"))
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`(?m)^127\.0\.0\.2\tt=\d{8}T\d{6}[-+]\d{4}\tp=POP3\tr=3 FAILED LOGIN ATTEMPTS in \d+s\te=\d{8}T\d{6}[-+]\d{4}\tu=Digital Man$`)
	if !line.Match(ipcan) || strings.Contains(string(ipcan), "\n127.0.0.1\t") {
		t.Errorf("ip.can does not list 127.0.0.2 once, or lists the server's own address:\n%s", ipcan)
	}

	coreWrite(t, filepath.Join(b.ctrl, "clear"), guardStranger+"\n")
	coreWaitLog(b, "Clear Failed Login Attempts semaphore file")
	if out := guardClient(t, "smtp-greet", b.ports.SMTP, guardStranger); out != "OK 220" {
		t.Errorf("after the clear semaphore, SMTP: %q, want the greeting", out)
	}
	if out := guardClient(t, "pop3-login", b.ports.POP3, guardStranger, "Digital Man", "Guard-Pass-1"); out != "OK 0 messages" {
		t.Errorf("after the clear semaphore, POP3: %q, want a login", out)
	}
}

// A login name in text/name.can bans the address at the first try.
func TestGuardNameCanBans(t *testing.T) {
	t.Parallel()
	b := guardBBS(t)
	b.start()
	if out := guardClient(t, "pop3-login", b.ports.POP3, guardStranger, "root", "toor"); !strings.HasPrefix(out, "ERR -ERR [AUTH]") {
		t.Fatalf("login as root: %q", out)
	}
	if out := guardClient(t, "smtp-greet", b.ports.SMTP, guardStranger); out != "CLOSED" {
		t.Errorf("after a login as root (name.can), SMTP: %q, want a silent close", out)
	}
}

// MaxRequestsPerPeriod: the command over the limit gets 421 and the
// connection is closed, also for the server's own address; on POP3 the
// commands after login count, and the limit is per client address.
func TestGuardRateLimit(t *testing.T) {
	t.Parallel()
	b := guardBBS(t)
	b.mail["MaxRequestsPerPeriod"] = "5"
	b.mail["RequestRateLimitPeriod"] = "1h"
	b.start()
	b.addUser("Digital Man", "Guard-Pass-2")
	if out := guardClient(t, "smtp-noop", b.ports.SMTP, coreHost, "8"); out != "250 250 250 250 250 421" {
		t.Errorf("EHLO and NOOPs from the own address: %q, want five 250 then 421", out)
	}
	if out := guardClient(t, "smtp-greet", b.ports.SMTP, "127.0.0.3"); out != "OK 220" {
		t.Errorf("another address after the first was limited: %q", out)
	}
	// USER and PASS are free; STAT and QUIT count: 2 of 5 per login.
	for i := range 2 {
		if out := guardClient(t, "pop3-login", b.ports.POP3, "127.0.0.4", "Digital Man", "Guard-Pass-2"); out != "OK 0 messages" {
			t.Fatalf("POP3 login %d: %q", i+1, out)
		}
	}
	out := guardClient(t, "pop3-login", b.ports.POP3, "127.0.0.4", "Digital Man", "Guard-Pass-2")
	if !strings.HasPrefix(out, "ERR -ERR [SYS/TEMP] Too many requests") {
		t.Errorf("sixth POP3 command: %q, want -ERR too many requests", out)
	}
	waitFor(t, 10*time.Second, "the rate limit in the log", func() bool { return b.logContains("Too many requests per rate limit") })
}
