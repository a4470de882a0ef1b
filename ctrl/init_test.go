package ctrl_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bbsmail/bbsmail/ctrl"
)

func TestInitCreatesLoadableTree(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "sbbs", "ctrl")
	if err := ctrl.Init(dir); err != nil {
		t.Fatal(err)
	}
	c, err := ctrl.Load(dir)
	if err != nil {
		t.Fatalf("a freshly created tree does not load: %v", err)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("fresh tree has warnings: %q", c.Warnings)
	}
	m := c.Mail
	if m.SMTPPort != 25 || m.SubmissionPort != 587 || m.TLSSubmissionPort != 465 || m.POP3Port != 110 || m.TLSPOP3Port != 995 {
		t.Errorf("ports %d %d %d %d %d, want the standard ones", m.SMTPPort, m.SubmissionPort, m.TLSSubmissionPort, m.POP3Port, m.TLSPOP3Port)
	}
	if _, ok := c.System.Sub("local-general"); !ok {
		t.Error("no LOCAL-GENERAL sub-board")
	}
	if !c.Lists.IPFilterExempt.Match("127.0.0.1") {
		t.Error("loopback is not exempt from filtering")
	}
	for _, d := range []string{"data/user", "temp", "exec", "mods", "text/email.can", "ctrl/spamblock.cfg"} {
		if _, err := os.Stat(filepath.Join(dir, "..", d)); err != nil {
			t.Errorf("missing %s: %v", d, err)
		}
	}
}

func TestInitDemoUsesUnprivilegedPortsAndKeepsEdits(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "ctrl")
	s := ctrl.DemoSkeleton()
	s.SMTPPort = 12525
	if err := ctrl.InitWith(dir, s); err != nil {
		t.Fatal(err)
	}
	c, err := ctrl.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := c.Mail
	if m.SMTPPort != 12525 || m.SubmissionPort != 2587 || m.TLSSubmissionPort != 2465 || m.POP3Port != 2110 || m.TLSPOP3Port != 2995 {
		t.Errorf("demo ports %d %d %d %d %d", m.SMTPPort, m.SubmissionPort, m.TLSSubmissionPort, m.POP3Port, m.TLSPOP3Port)
	}
	if strings.Join(m.Interfaces, ",") != "127.0.0.1" || strings.Join(m.POP3Interfaces, ",") != "127.0.0.1" {
		t.Errorf("demo listens on %v / %v, want loopback only", m.Interfaces, m.POP3Interfaces)
	}
	if c.System.InetAddr != "bbs.localhost" {
		t.Errorf("demo domain %q", c.System.InetAddr)
	}
	want := ctrl.AllowPOP3 | ctrl.UseSubmissionPort | ctrl.TLSSubmission | ctrl.TLSPOP3
	if m.Options != want {
		t.Errorf("demo options %v, want %v", m.Options, want)
	}
	// A second Init must not overwrite the sysop's edits.
	relay := filepath.Join(dir, "relay.cfg")
	if err := os.WriteFile(relay, []byte("10.0.0.0/8\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ctrl.InitDemo(dir); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(relay); string(b) != "10.0.0.0/8\n" {
		t.Errorf("Init overwrote relay.cfg: %q", b)
	}
}

func TestInitRejectsBadSkeleton(t *testing.T) {
	t.Parallel()
	s := ctrl.DemoSkeleton()
	s.Options = "ALLOW_POP3|NOPE"
	if err := ctrl.InitWith(filepath.Join(t.TempDir(), "ctrl"), s); err == nil {
		t.Error("an unknown option was written into a new sbbs.ini")
	}
}
