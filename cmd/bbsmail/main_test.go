package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/ctrl"
)

func TestCtrlFlag(t *testing.T) {
	t.Setenv("SBBSCTRL", "")
	cases := []struct {
		args []string
		env  string
		dir  string
		rest string
	}{
		{[]string{"user", "list", "-ctrl", "/x/ctrl"}, "", "/x/ctrl", "user list"},
		{[]string{"-ctrl=/y", "serve"}, "", "/y", "serve"},
		{[]string{"--ctrl", "/z", "mail", "list", "bob"}, "/env", "/z", "mail list bob"},
		{[]string{"check"}, "/env/ctrl", "/env/ctrl", "check"},
		{[]string{"check"}, "", "/sbbs/ctrl", "check"},
	}
	for _, c := range cases {
		t.Setenv("SBBSCTRL", c.env)
		dir, rest, err := ctrlFlag(c.args)
		if err != nil || dir != c.dir || strings.Join(rest, " ") != c.rest {
			t.Errorf("ctrlFlag(%q) with SBBSCTRL=%q = %q, %q, %v; want %q, %q", c.args, c.env, dir, rest, err, c.dir, c.rest)
		}
	}
	if _, _, err := ctrlFlag([]string{"serve", "-ctrl"}); err == nil {
		t.Error("-ctrl without a directory was accepted")
	}
}

func TestNeedsPassword(t *testing.T) {
	cases := map[string]bool{
		"user add bob":                   true,
		"user add --password - bob":      true,
		"user add --password=- bob":      true,
		"user add --password pw bob":     false,
		"user passwd bob":                true,
		"user passwd --password=x bob":   false,
		"mail list bob":                  false,
		"user set --realname Bob bob":    false,
		"user add bob --password secret": false,
		// Argument errors come before the prompt: no user named, no prompt.
		"user add":                         false,
		"user add --realname Bob":          false,
		"user add --level 20 --password -": false,
		"user add --level 20 bob":          true,
		"user add --realname=Bob bob":      true,
		"user passwd":                      false,
	}
	for line, want := range cases {
		if got := needsPassword(strings.Fields(line)); got != want {
			t.Errorf("needsPassword(%q) = %v, want %v", line, got, want)
		}
	}
}

func TestListenAddr(t *testing.T) {
	cases := []struct{ iface, addr, network string }{
		{"0.0.0.0", "0.0.0.0:25", "tcp4"},
		{"::", "[::]:25", "tcp6"},
		{"127.0.0.1:2525", "127.0.0.1:2525", "tcp4"},
		{"[::1]:2525", "[::1]:2525", "tcp6"},
		{"", "0.0.0.0:25", "tcp4"},
	}
	for _, c := range cases {
		addr, network := listenAddr(c.iface, 25)
		if addr != c.addr || network != c.network {
			t.Errorf("listenAddr(%q) = %s %s, want %s %s", c.iface, addr, network, c.addr, c.network)
		}
	}
}

// A busy port is retried BindRetryCount times and then reported; a free
// one binds at once.
func TestListenAllBusyPort(t *testing.T) {
	busy, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	spec := bindSpec{Retries: 2, Delay: time.Millisecond, Log: discardLogger()}
	if _, err := listenAll([]string{"127.0.0.1"}, port, spec); err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("binding a busy port: err = %v", err)
	}
	ls, err := listenAll([]string{"127.0.0.1"}, 0, spec)
	if err != nil || len(ls) != 1 {
		t.Fatalf("binding a free port: %v %v", ls, err)
	}
	ls[0].Close()
}

// On first start a self-signed pair is written (key owner-only) and then
// reused; a lone certificate without its key is an error naming both.
func TestLoadOrCreateCert(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "ssl.cert"), filepath.Join(dir, "ssl.key")
	cert, created, err := loadOrCreateCert(certFile, keyFile, []string{"bbs.test"})
	if err != nil || !created {
		t.Fatalf("first start: created=%v err=%v", created, err)
	}
	fi, err := os.Stat(keyFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi, err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := leaf.VerifyHostname("bbs.test"); err != nil {
		t.Errorf("certificate does not name bbs.test: %v", err)
	}
	again, created, err := loadOrCreateCert(certFile, keyFile, []string{"bbs.test"})
	if err != nil || created || string(again.Certificate[0]) != string(cert.Certificate[0]) {
		t.Fatalf("second start did not reuse the pair: created=%v err=%v", created, err)
	}
	if _, err := tls.X509KeyPair(readFile(t, certFile), readFile(t, keyFile)); err != nil {
		t.Fatalf("files are not a PEM pair: %v", err)
	}
	os.Remove(keyFile)
	if _, _, err := loadOrCreateCert(certFile, keyFile, nil); err == nil || !strings.Contains(err.Error(), "ssl.key") {
		t.Fatalf("certificate without key: err = %v", err)
	}
}

// A recycle file newer than the last look reloads; a shutdown file stops;
// editing sbbs.ini reloads; an old semaphore file does nothing.
func TestSemaphores(t *testing.T) {
	dir, cfg := initConfig(t)
	old := time.Now().Add(-time.Hour)
	touch(t, filepath.Join(dir, "recycle"), old)
	sem := newSemaphores(cfg, time.Now().Add(-time.Minute))
	if got := sem.check(cfg); got != semNone {
		t.Fatalf("old recycle file: %v", got)
	}
	touch(t, filepath.Join(dir, "mail.rec"), time.Now().Add(time.Second))
	if got := sem.check(cfg); got != semRecycle {
		t.Fatalf("new mail.rec: %v, want recycle", got)
	}
	touch(t, cfg.Paths.SBBSIni, time.Now().Add(2*time.Second))
	if got := sem.check(cfg); got != semRecycle {
		t.Fatalf("edited sbbs.ini: %v, want recycle", got)
	}
	// Creating, editing and removing a watched file (mailproc.ini) recycle.
	proc := filepath.Join(dir, "mailproc.ini")
	sem.watch(proc)
	if got := sem.check(cfg); got != semNone {
		t.Fatalf("nothing changed: %v", got)
	}
	touch(t, proc, time.Now().Add(2*time.Second))
	if got := sem.check(cfg); got != semRecycle {
		t.Fatalf("new mailproc.ini: %v, want recycle", got)
	}
	touch(t, proc, time.Now().Add(3*time.Second))
	if got := sem.check(cfg); got != semRecycle {
		t.Fatalf("edited mailproc.ini: %v, want recycle", got)
	}
	if err := os.Remove(proc); err != nil {
		t.Fatal(err)
	}
	if got := sem.check(cfg); got != semRecycle {
		t.Fatalf("removed mailproc.ini: %v, want recycle", got)
	}
	touch(t, filepath.Join(dir, "shutdown.now"), time.Now().Add(3*time.Second))
	if got := sem.check(cfg); got != semShutdown {
		t.Fatalf("shutdown.now: %v, want shutdown", got)
	}
}

func touch(t *testing.T, name string, when time.Time) {
	t.Helper()
	if _, err := os.Stat(name); err != nil {
		if err := os.WriteFile(name, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(name, when, when); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Lookups go to the sbbs.ini DNSServer when one is set: a name only the
// test server knows resolves, which the system's resolver could not do.
func TestResolverFor(t *testing.T) {
	if resolverFor("") != net.DefaultResolver || resolverFor("<auto>") != net.DefaultResolver {
		t.Fatal("blank or <auto> DNSServer must use the system resolver")
	}
	addr := startDNS(t, map[string]string{"mx.bbsmail-test.invalid.": "192.0.2.7"})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := resolverFor(addr).LookupHost(ctx, "mx.bbsmail-test.invalid")
	if err != nil || len(got) != 1 || got[0] != "192.0.2.7" {
		t.Fatalf("lookup through DNSServer %s: %v %v", addr, got, err)
	}
}

// An Interface list with an IPv4 and an IPv6 address opens one listener
// on each, of the right family.
func TestListenAllDualStack(t *testing.T) {
	if l, err := net.Listen("tcp6", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback on this machine: %v", err)
	} else {
		l.Close()
	}
	port := freePort(t)
	ls, err := listenAll([]string{"127.0.0.1", "::1"}, port, bindSpec{Log: discardLogger()})
	if err != nil || len(ls) != 2 {
		t.Fatalf("listenAll: %v %v", ls, err)
	}
	defer ls[0].Close()
	defer ls[1].Close()
	for i, want := range []string{"127.0.0.1:", "[::1]:"} {
		c, err := net.Dial("tcp", ls[i].Addr().String())
		if err != nil || !strings.HasPrefix(ls[i].Addr().String(), want) {
			t.Fatalf("listener %d at %s: %v", i, ls[i].Addr(), err)
		}
		c.Close()
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// initConfig creates a control directory from the embedded defaults and
// loads it.
func initConfig(t *testing.T) (dir string, cfg *ctrl.Config) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "ctrl")
	if err := ctrl.Init(dir); err != nil {
		t.Fatal(err)
	}
	cfg, err := ctrl.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, cfg
}

// The usage text names every flag docs/cli.md documents for a command.
func TestUsageListsDocumentedFlags(t *testing.T) {
	doc, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	flagRE := regexp.MustCompile("--[a-z][a-z-]*")
	n := 0
	for _, line := range strings.Split(string(doc), "\n") {
		cols := strings.Split(line, "| ")
		if len(cols) < 3 || !strings.HasPrefix(cols[1], "`") {
			continue
		}
		for _, f := range flagRE.FindAllString(cols[1], -1) {
			n++
			if !strings.Contains(usage, f) {
				t.Errorf("docs/cli.md documents %s (%s) but the usage text lacks it", f, strings.TrimSpace(cols[1]))
			}
		}
	}
	if n < 10 {
		t.Fatalf("found only %d documented flags: has docs/cli.md changed shape?", n)
	}
}

// Mail processor scripts read the control directory, but not sbbs.ini: it
// holds RelayPassword, and a script that answers with a file a client
// named (an autoresponder, a help robot) would send the password to
// whoever asks for "../ctrl/sbbs.ini".
func TestMailprocPrivateFiles(t *testing.T) {
	dir, cfg := initConfig(t)
	priv := mailprocConfig(cfg, nil, discardLogger()).Private
	for _, want := range []string{filepath.Join(dir, "sbbs.ini"), secretKeyPath(cfg), mailbasePath(cfg), socketPath(cfg),
		filepath.Join(dir, ownKeyName)} { // the generated TLS key when the sysop has none
		if !slices.Contains(priv, want) {
			t.Errorf("mail processor scripts may reach %s (private: %v)", want, priv)
		}
	}
}
