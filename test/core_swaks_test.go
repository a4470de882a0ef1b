package test

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// coreSwaks runs swaks and fails the test unless it exits 0. swaks needs
// Net::SSLeay for --tls; without it the test is skipped naming the package.
func coreSwaks(t *testing.T, args ...string) string {
	t.Helper()
	swaks := needTool(t, "swaks", "swaks")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, swaks, append([]string{"--timeout", "30"}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if strings.Contains(out.String(), "requires Net::SSLeay") {
		t.Skip(`swaks has no TLS support: install the Debian package "libnet-ssleay-perl" to run this interop test`)
	}
	if err != nil {
		t.Fatalf("swaks %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// swaks, as a sysop would use it to check a new install, delivers on port
// 25 without logging in, and submits on 587 with STARTTLS and AUTH LOGIN.
func TestCoreSwaks(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.start()
	b.addUser("Digital Man", "Swaks-Pass-3")

	out := coreSwaks(t, "--server", b.addr(b.ports.SMTP), "--helo", "client.example",
		"--from", "joe@example.org", "--to", "digital.man@bbs.test", "--header", "Subject: swaks over port 25")
	if !strings.Contains(out, "<-  250 2.0.0 OK") { // "<-" plain text, "<~" inside TLS
		t.Errorf("swaks on port 25 did not end with 250 after DATA:\n%s", out)
	}
	out = coreSwaks(t, "--server", b.addr(b.ports.Submission), "--helo", "client.example", "--tls",
		"--auth", "LOGIN", "--auth-user", "Digital Man", "--auth-password", "Swaks-Pass-3",
		"--from", "digital.man@bbs.test", "--to", "digital.man@bbs.test", "--header", "Subject: swaks submission")
	for _, want := range []string{"<-  220 2.0.0 Ready to start TLS", "<~  235 2.7.0", "<~  250 2.0.0 OK"} {
		if !strings.Contains(out, want) {
			t.Errorf("swaks on port 587: no %q:\n%s", want, out)
		}
	}
	rows := coreMailList(b, "Digital Man")
	for _, s := range []string{"swaks over port 25", "swaks submission"} {
		if !coreHasSubject(rows, s) {
			t.Errorf("%q is not in the mailbox:\n%s", s, strings.Join(rows, "\n"))
		}
	}
}
