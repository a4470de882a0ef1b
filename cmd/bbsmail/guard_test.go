package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/ctrl"
	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/guard"
)

// The guard gets sbbs.ini's LoginAttempt* and rate-limit values, and
// writes hack.log beside spam.log.
func TestGuardSettings(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ctrl")
	if err := ctrl.Init(dir); err != nil {
		t.Fatal(err)
	}
	ini := "[Global]\n\tLoginAttemptThrottle = 250\n\tLoginAttemptTempBanThreshold = 7\n\tLoginAttemptFilterDuration = 1h\n" +
		"[Mail]\n\tMaxRequestsPerPeriod = 40\n\tRequestRateLimitPeriod = 60\n\tRateLimitSubnetPrefix4 = 24\n"
	if err := os.WriteFile(filepath.Join(dir, "sbbs.ini"), []byte(ini), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := ctrl.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := guardSettings(cfg, discardLogger())
	if s.Throttle != 250*time.Millisecond || s.TempBanThreshold != 7 || s.TempBanDuration != 10*time.Minute ||
		s.HackThreshold != 10 || s.FilterThreshold != 0 || s.FilterDuration != time.Hour {
		t.Errorf("login-attempt settings %+v", s)
	}
	if s.MaxRequests != 40 || s.RequestPeriod != time.Minute || s.SubnetPrefix4 != 24 || s.SubnetPrefix6 != 64 {
		t.Errorf("rate-limit settings %+v", s)
	}
	if s.HackLog != filepath.Join(cfg.Paths.Logs, "hack.log") || s.IPFilter != cfg.Lists.IP ||
		s.NameFilter != cfg.Lists.Name || s.IPFilterExempt != cfg.Lists.IPFilterExempt {
		t.Errorf("files %+v", s)
	}
}

// The clear semaphore (ctrl/clear or clear.mail) written after the last
// look lifts the ban of the address on its first line, or of everyone when
// it is empty; an old one does nothing.
func TestClearSemaphore(t *testing.T) {
	dir, cfg := initConfig(t)
	g := guard.New(guard.Settings{TempBanThreshold: 1, TempBanDuration: time.Hour})
	srv := &server{guard: g, log: discardLogger()}
	fail := func(ips ...string) {
		for _, ip := range ips {
			g.Failed(envelope.LoginAttempt{Protocol: "POP3", IP: ip, User: "joe", Password: "x"})
		}
	}
	banned := func(ip string) bool { left, _ := g.Banned(ip); return left > 0 }
	fail("192.0.2.1", "192.0.2.2")

	sem := newSemaphores(cfg, time.Now().Add(-time.Minute))
	touch(t, filepath.Join(dir, "clear"), time.Now().Add(-time.Hour))
	if p := sem.clearFile(cfg); p != "" {
		t.Fatalf("an old clear file triggers: %s", p)
	}

	one := filepath.Join(dir, "clear.mail")
	if err := os.WriteFile(one, []byte("192.0.2.1\n; the rest is ignored\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	touch(t, one, time.Now().Add(time.Second))
	p := sem.clearFile(cfg)
	if p != one {
		t.Fatalf("clearFile = %q, want %q", p, one)
	}
	srv.clearAttempts(p)
	if banned("192.0.2.1") || !banned("192.0.2.2") {
		t.Fatal("clear with an address did not lift exactly that ban")
	}
	if p := sem.clearFile(cfg); p != "" {
		t.Fatalf("the same clear file triggers twice: %s", p)
	}

	all := filepath.Join(dir, "clear")
	if err := os.WriteFile(all, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	touch(t, all, time.Now().Add(2*time.Second))
	srv.clearAttempts(sem.clearFile(cfg))
	if banned("192.0.2.2") {
		t.Fatal("an empty clear file did not lift every ban")
	}
}
