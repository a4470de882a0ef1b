package ctrl_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/ctrl"
)

// copyTree copies testdata/<name> into a fresh temporary directory and
// returns the copy's root, so no test writes under testdata.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestLoadStockSynchronetFiles(t *testing.T) {
	t.Parallel()
	root := copyTree(t, filepath.Join("..", "testdata", "synchronet-stock"))
	c, err := ctrl.Load(filepath.Join(root, "ctrl"))
	if err != nil {
		t.Fatalf("the stock Synchronet control directory does not load: %v", err)
	}
	m := c.Mail
	checks := []struct {
		what string
		ok   bool
	}{
		{"MaxMsgSize 20M", m.MaxMsgSize == 20<<20},
		{"Options include TLS_POP3", m.Options.Has(ctrl.TLSPOP3 | ctrl.AllowPOP3 | ctrl.UseSubmissionPort | ctrl.TLSSubmission)},
		{"no other options", m.Options == ctrl.TLSPOP3|ctrl.AllowPOP3|ctrl.UseSubmissionPort|ctrl.TLSSubmission},
		{"NotifyOfflineUsers true", m.NotifyOfflineUsers},
		{"MaxInactivity 2m", m.MaxInactivity == 2*time.Minute},
		{"RescanFrequency 1h", m.RescanFrequency == time.Hour},
		{"ConnectTimeout 30s", m.ConnectTimeout == 30*time.Second},
		{"Interface from [Global]", strings.Join(m.Interfaces, ",") == "0.0.0.0,::"},
		{"POP3Interface from [Global]", strings.Join(m.POP3Interfaces, ",") == "0.0.0.0,::"},
		{"LogLevel Info from [Global]", m.LogLevel == ctrl.LogInfo},
		{"TLSErrorLevel Warning from [Global]", m.TLSErrorLevel == ctrl.LogWarning},
		{"LoginAttemptDelay 5s", m.LoginAttemptDelay == 5*time.Second},
		{"LoginAttemptTempBanDuration 10m", m.LoginAttemptTempBanDuration == 10*time.Minute},
		{"BindRetryCount 5 from [Global]", m.BindRetryCount == 5},
		{"SemFileCheckFrequency 2s", m.SemFileCheck == 2*time.Second},
		{"JavaScriptMaxBytes 160M", m.JavaScriptMaxBytes == 160<<20},
		{"DefaultCharset accepted", m.DefaultCharset == "IBM437"},
		{"MaxBadCommands default 10", m.MaxBadCommands == 10},
		{"ports", m.SMTPPort == 25 && m.SubmissionPort == 587 && m.TLSSubmissionPort == 465 && m.POP3Port == 110 && m.TLSPOP3Port == 995},
		{"operator Sysop", c.System.Operator == "Sysop"},
		{"QWK id MYBBS", c.System.QWKID == "MYBBS"},
		{"name My BBS", c.System.Name == "My BBS"},
		{"system address", c.System.InetAddr == "mybbs.com"},
		{"forwarding to netmail allowed (settings 0x611f848)", c.System.ForwardToNetmail()},
		{"read mail not killed", !c.System.KillReadMail()},
		{"real-name e-mail (msgs.ini settings 0xffff0000)", c.System.RealNameMail()},
		{"no login by number", !c.System.LoginNumber()},
		{"QWK hub VERT disabled", len(c.System.QWKHubs) == 1 && c.System.QWKHubs[0].ID == "VERT" && !c.System.QWKHubs[0].Enabled},
		{"six aliases", len(c.Aliases) == 6 && c.Aliases[0].Name == "sysop" && c.Aliases[0].Value == "1"},
		{"two DNSBL zones", len(c.DNSBL) == 2 && c.DNSBL[0].Zone == "sbl.spamhaus.org" && c.DNSBL[1].Note == "(see http://spamcop.net/bl.shtml)"},
		{"paths from main.ini", c.Paths.Data == filepath.Join(root, "data") && c.Paths.Logs == filepath.Join(root, "data") && c.Paths.Temp == filepath.Join(root, "temp")},
	}
	for _, ck := range checks {
		if !ck.ok {
			t.Errorf("stock files: want %s", ck.what)
		}
	}
	for _, code := range []string{"LOCAL-GENERAL", "dove-general", "LOCAL-NOTICES"} {
		if _, ok := c.System.Sub(code); !ok {
			t.Errorf("sub-board %s missing", code)
		}
	}
	if s, _ := c.System.Sub("LOCAL-NOTICES"); s.PostARS != "SYSOP" || s.Name != "Notices" {
		t.Errorf("LOCAL-NOTICES = %+v", s)
	}
	if !c.Lists.IPFilterExempt.Match("10.1.2.3") || !c.Lists.IPFilterExempt.Match("::1") || c.Lists.IPFilterExempt.Match("8.8.8.8") {
		t.Error("ipfilter_exempt.cfg CIDR entries do not work")
	}
	if !c.Lists.DNSBLExempt.Match("<rob@synchro.net>") || !c.Lists.DNSBLExempt.Match("vert.synchro.net") {
		t.Error("dnsbl_exempt.cfg entries do not match")
	}
	if !c.Lists.Name.Match("sysop2") || c.Lists.Name.Match("joe") {
		t.Error("name.can 'sysop~' does not work")
	}
	if !c.IsLocalDomain("MyBBS.com") || c.IsLocalDomain("example.org") {
		t.Error("IsLocalDomain is wrong for the system address")
	}
}

func TestLoadTestBBS(t *testing.T) {
	t.Parallel()
	root := copyTree(t, filepath.Join("..", "testdata", "bbs"))
	c, err := ctrl.Load(filepath.Join(root, "ctrl"))
	if err != nil {
		t.Fatal(err)
	}
	if c.System.InetAddr != "bbs.test" || c.Host() != "bbs.test" {
		t.Errorf("system address %q, host %q; want bbs.test", c.System.InetAddr, c.Host())
	}
	if strings.Join(c.Mail.Interfaces, ",") != "127.0.0.1" || strings.Join(c.Mail.POP3Interfaces, ",") != "127.0.0.1" {
		t.Errorf("interfaces %v / %v, want loopback", c.Mail.Interfaces, c.Mail.POP3Interfaces)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings: %q", c.Warnings)
	}
}

func TestLoadMissingDirectory(t *testing.T) {
	t.Parallel()
	_, err := ctrl.Load(filepath.Join(t.TempDir(), "nope"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing directory: %v, want fs.ErrNotExist", err)
	}
}
