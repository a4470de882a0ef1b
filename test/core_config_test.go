package test

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// coreRunLimited runs the bbsmail binary with a deadline, so a `serve`
// that wrongly starts fails the test instead of hanging it.
func coreRunLimited(t *testing.T, limit time.Duration, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "SBBSCTRL=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("bbsmail %s still ran after %s:\n%s", strings.Join(args, " "), limit, out.String())
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("bbsmail %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), 0
}

// coreIniLine is the line number of key in the test's ctrl/sbbs.ini.
func coreIniLine(t *testing.T, b *bbs, key string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(b.ctrl, "sbbs.ini"))
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), key+" ") {
			return i + 1
		}
	}
	t.Fatalf("sbbs.ini has no %s", key)
	return 0
}

// A value the server can't read stops `bbsmail serve` with a non-zero
// exit and a message naming the file, the line and the key, so the sysop
// knows what to fix; `bbsmail check` prints the same message.
func TestCoreBadConfigStopsServe(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ key, value string }{
		{"MaxInactivity", "2x"},
		{"MaxMsgSize", "12Q"},
		{"Options", "ALLOW_POP3 | TLS_POP"}, // a near miss of TLS_POP3
	} {
		t.Run(c.key, func(t *testing.T) {
			t.Parallel()
			b := newBBS(t)
			b.mail[c.key] = c.value
			b.writeIni()
			where := regexp.MustCompile(`sbbs\.ini:` + strconv.Itoa(coreIniLine(t, b, c.key)) + `\D.*` + c.key)
			out, code := coreRunLimited(t, time.Minute, "serve", "-ctrl", b.ctrl)
			if code == 0 || !where.MatchString(out) {
				t.Fatalf("serve with %s = %s: exit %d, want non-zero and a message matching %s:\n%s",
					c.key, c.value, code, where, out)
			}
			msg := where.FindString(out)
			out, code = coreRunLimited(t, time.Minute, "check", "-ctrl", b.ctrl)
			if code == 0 || !strings.Contains(out, msg) {
				t.Fatalf("check with %s = %s: exit %d, want non-zero and %q:\n%s", c.key, c.value, code, msg, out)
			}
		})
	}
}

// An older sbbs.ini whose Options hold a flag Synchronet has retired starts,
// as it does under Synchronet, with a warning naming the line and the flag.
func TestCoreRetiredOptionStarts(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.mail["Options"] = "ALLOW_POP3 | LOCAL_TIMEZONE | NO_HOST_LOOKUP | NO_SENDMAIL"
	b.start()
	if !b.logContains("[Mail] Options: LOCAL_TIMEZONE: old releases' local time zone flag: no effect in bbsmail") {
		t.Fatalf("no warning about LOCAL_TIMEZONE:\n%s", b.log.String())
	}
}

// The demo ports; the test runs only when they are free.
var coreDemoPorts = []int{2525, 2587, 2465, 2110, 2995}

// `bbsmail demo -dir X` creates a whole BBS tree from the embedded
// defaults (with a certificate), prints the password of the user "demo",
// and serves: mail sent to demo@ on 2525 can be fetched by POP3 on 2110
// with that password. SIGTERM stops it with exit status 0.
func TestCoreDemoCreatesTree(t *testing.T) {
	for _, p := range coreDemoPorts {
		l, err := net.Listen("tcp4", "127.0.0.1:"+itoa(p))
		if err != nil {
			t.Skipf("demo port %d is busy: %v", p, err)
		}
		l.Close()
	}
	dir := filepath.Join(t.TempDir(), "demo")
	var out syncBuffer
	cmd := exec.Command(bin, "demo", "-dir", dir)
	cmd.Env = append(os.Environ(), "SBBSCTRL=")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	exited := func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	}
	waitFor(t, 30*time.Second, "the demo to listen on 2525", func() bool {
		if exited() {
			if strings.Contains(out.String(), "address already in use") {
				t.Skipf("a demo port was taken meanwhile:\n%s", out.String())
			}
			t.Fatalf("the demo exited:\n%s", out.String())
		}
		c, err := net.DialTimeout("tcp", "127.0.0.1:2525", time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	for _, f := range []string{"ctrl/sbbs.ini", "ctrl/main.ini", "ctrl/msgs.ini", "ctrl/ssl.cert", "ctrl/ssl.key", "data/bbsmail.db"} {
		if !fileExists(filepath.Join(dir, f)) {
			t.Errorf("the demo tree has no %s", f)
		}
	}
	m := regexp.MustCompile(`(?m)^\s*user\s+demo\s+password\s+(\S+)`).FindStringSubmatch(out.String())
	dm := regexp.MustCompile(`(?m)^\s*domain\s+(\S+)`).FindStringSubmatch(out.String())
	if m == nil || dm == nil {
		t.Fatalf("the demo did not print the domain and the demo user's password:\n%s", out.String())
	}
	for _, want := range []string{"curl -u demo:" + m[1] + " pop3://127.0.0.1:2110/1", "bbsmail -ctrl " + filepath.Join(dir, "ctrl") + " mail list demo"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the demo does not print %q:\n%s", want, out.String())
		}
	}
	py := python(t, "core_mta_pop3.py", coreHost, "2525", "2110", "demo@"+dm[1], "demo", m[1])
	t.Log(py)

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the demo to stop", exited)
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("the demo exited with %d after SIGTERM:\n%s", code, out.String())
	}
}
