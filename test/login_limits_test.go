package test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// loginStorm runs login_storm.py (see its usage) and returns its line.
func loginStorm(t *testing.T, proto string, port int, sources string, n int, user, wrong string, right ...string) string {
	t.Helper()
	args := append([]string{proto, coreHost, itoa(port), sources, itoa(n), user, wrong}, right...)
	return strings.TrimSpace(python(t, "login_storm.py", args...))
}

// serverMiB reads a kB field (VmHWM, VmRSS) of the server's
// /proc/PID/status, in MiB.
func serverMiB(t *testing.T, b *bbs, field string) int {
	t.Helper()
	b.mu.Lock()
	pid := b.cmd.Process.Pid
	b.mu.Unlock()
	return int(procStatus(t, pid, field) / 1024)
}

// loginMemoryLimit is the resident size the server may reach while 200
// failed logins arrive at once (each argon2id check holds 19 MiB).
const loginMemoryLimit = 300

// 200 failed logins at once, 100 over SMTP AUTH PLAIN and 100 over POP3,
// each from its own address (so that the per-address queue does not
// serialise them): the server's peak resident size (VmHWM, the kernel's
// high-water mark, so no sample can miss the peak) stays under 300 MiB,
// and its resident size falls back once the checks are over.
func TestLoginMemoryBound(t *testing.T) {
	t.Parallel()
	exe, err := plainBinary()
	if err != nil {
		t.Fatalf("building bbsmail without -race: %v", err)
	}
	b := guardBBS(t)
	b.exe = exe
	b.mail["MaxClients"] = "500"
	b.start()
	b.addUser("Digital Man", "Storm-Pass-1")
	before := serverMiB(t, b, "VmRSS")

	var wg sync.WaitGroup
	outs := make([]string, 2)
	for i, c := range []struct {
		proto   string
		port    int
		sources string
	}{{"smtp", b.ports.SMTP, "many:127.0.1.1"}, {"pop3", b.ports.POP3, "many:127.0.2.1"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i] = loginStorm(t, c.proto, c.port, c.sources, 100, "Digital Man", "Wrong-Storm")
		}()
	}
	wg.Wait()
	// A check that waited for a hashing slot longer than the queue allows
	// (a slow or busy machine) is answered 454, a temporary failure.
	if !regexp.MustCompile(`^wrong (454x\d+ )?535x\d+$`).MatchString(outs[0]) || outs[1] != "wrong ERRx100" {
		t.Errorf("200 wrong passwords: SMTP %q, POP3 %q; want 535 (or 454) and -ERR for each", outs[0], outs[1])
	}
	peak := serverMiB(t, b, "VmHWM")
	t.Logf("resident size: %d MiB before, peak %d MiB during 200 concurrent failed logins", before, peak)
	if peak >= loginMemoryLimit {
		t.Errorf("peak resident size %d MiB during 200 concurrent failed logins, want under %d MiB", peak, loginMemoryLimit)
	}
	// The arenas are garbage once the checks end: the memory goes back.
	var rss int
	waitFor(t, 30*time.Second, "the resident size to fall back", func() bool {
		rss = serverMiB(t, b, "VmRSS")
		return rss < before+(peak-before)/2
	})
	t.Logf("resident size after the logins: %d MiB", rss)
}

// Connections opened ahead of time do not get around the temporary ban:
// 80 connections from one address, 79 wrong passwords sent at the same
// moment, then the right one. The checks from one address run one at a
// time, each after the failures before it are counted, so no more than
// LoginAttemptTempBanThreshold (20) are checked; the others, and then the
// right password, are refused because of the ban. SMTP and POP3 alike.
func TestLoginBanBeforeCheck(t *testing.T) {
	t.Parallel()
	b := guardBBS(t)
	b.mail["MaxClients"] = "500"
	b.glob["LoginAttemptTempBanThreshold"] = "20"
	b.glob["LoginAttemptTempBanDuration"] = "10m"
	// The checks of one address run one after another; each waits for the
	// ones before it within MaxInactivity, and argon2 under the race
	// detector on a busy machine is slow.
	b.mail["MaxInactivity"] = "5m"
	b.start()
	b.addUser("Digital Man", "Ban-Pass-1")

	if out := loginStorm(t, "smtp", b.ports.SMTP, "one:127.0.3.1", 79, "Digital Man", "Wrong-Ban", "Ban-Pass-1"); out != "wrong 535x79 right 535" {
		t.Errorf("SMTP: %q, want 535 for the 79 wrong passwords and for the right one after them", out)
	}
	if out := loginStorm(t, "pop3", b.ports.POP3, "one:127.0.4.1", 79, "Digital Man", "Wrong-Ban", "Ban-Pass-1"); out != "wrong ERRx79 right ERR" {
		t.Errorf("POP3: %q, want -ERR for the 79 wrong passwords and for the right one after them", out)
	}
	// Each password refused without a check because of the ban is logged
	// so; at most 20 per address were checked.
	log := b.log.String()
	for _, c := range []struct{ proto, ip string }{{"SMTP", "127.0.3.1"}, {"POP3", "127.0.4.1"}} {
		refused := strings.Count(log, c.proto+" ["+c.ip+"] !TEMPORARY BAN")
		if refused < 80-20 {
			t.Errorf("%s: %d of 80 logins from %s refused for the ban without a check, want at least 60", c.proto, refused, c.ip)
		}
	}
}

// sbbs.ini holding RelayPassword while readable by others is warned about,
// by the server at start-up and by `bbsmail check`; once it is 0600 the
// warning is gone.
func TestSecretFileModeWarning(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.mail["RelayServer"], b.mail["RelayPort"] = "127.0.0.1", "1"
	b.mail["RelayUsername"], b.mail["RelayPassword"] = "bbsuser", "Relay-Secret-12"
	b.writeIni()
	ini := filepath.Join(b.ctrl, "sbbs.ini")
	if err := os.Chmod(ini, 0o644); err != nil {
		t.Fatal(err)
	}
	const warning = "sbbs.ini holds the smarthost password (RelayPassword) and is readable by group or others (mode 0644)"
	b.start()
	waitFor(t, 10*time.Second, "the start-up warning", func() bool { return b.logContains(warning) })
	if _, errOut, code := b.run("", "check"); code != 0 || !strings.Contains(errOut, "warning: "+ini) || !strings.Contains(errOut, warning) {
		t.Errorf("bbsmail check with sbbs.ini 0644 (exit %d): stderr %q, want the warning", code, errOut)
	}
	if err := os.Chmod(ini, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := b.run("", "check"); code != 0 || strings.Contains(errOut, "readable by group or others") {
		t.Errorf("bbsmail check with sbbs.ini 0600 (exit %d): stderr %q, want no warning", code, errOut)
	}
}

// DisablePlaintextAuth: poplib from 127.0.0.2 (not the server's own
// address) is refused USER before STLS and logs in after it; the server's
// own address still logs in without TLS. Without the key (Synchronet's
// default) 127.0.0.2 logs in without TLS.
func TestLoginPlaintextRefusedBeforeSTLS(t *testing.T) {
	t.Parallel()
	for _, on := range []bool{true, false} {
		t.Run(fmt.Sprintf("DisablePlaintextAuth=%v", on), func(t *testing.T) {
			t.Parallel()
			b := guardBBS(t)
			b.mail["DisablePlaintextAuth"] = strconv.FormatBool(on)
			b.start()
			b.addUser("Digital Man", "Plain-Pass-1")
			want := "OK 0 messages"
			if on {
				want = "ERR -ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections."
			}
			if out := guardClient(t, "pop3-login", b.ports.POP3, guardStranger, "Digital Man", "Plain-Pass-1"); out != want {
				t.Errorf("USER/PASS from %s without TLS: %q, want %q", guardStranger, out, want)
			}
			if out := guardClient(t, "pop3-stls-login", b.ports.POP3, guardStranger, "Digital Man", "Plain-Pass-1"); out != "OK 0 messages" {
				t.Errorf("USER/PASS from %s after STLS: %q, want a login", guardStranger, out)
			}
			if out := guardClient(t, "pop3-login", b.ports.POP3, coreHost, "Digital Man", "Plain-Pass-1"); out != "OK 0 messages" {
				t.Errorf("USER/PASS from the server's own address without TLS: %q, want a login", out)
			}
		})
	}
}
