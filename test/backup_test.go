package test

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// `bbsmail backup` copies the mailbase while the server runs and mail
// keeps arriving; `restore` refuses a running server and, with it
// stopped, brings the copy back; `check --db` and `maint` work both ways.
func TestBackupRestoreMaint(t *testing.T) {
	b := newBBS(t)
	b.addUser("Digital Man", "Backup-Pass-1")
	b.start()
	for i := range 5 {
		coreDeliver(t, b, "joe@example.org", "digital.man@bbs.test", fmt.Sprintf("before backup %d", i))
	}
	file := filepath.Join(t.TempDir(), "mail.backup")
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // deliveries go on during the backup
		defer wg.Done()
		for i := range 5 {
			coreDeliver(t, b, "joe@example.org", "digital.man@bbs.test", fmt.Sprintf("during backup %d", i))
		}
	}()
	out := b.must("backup", file)
	wg.Wait()
	if !strings.Contains(out, file+": ") || !strings.Contains(out, " users, ") {
		t.Errorf("backup printed %q", out)
	}
	coreDeliver(t, b, "joe@example.org", "digital.man@bbs.test", "after backup")

	if out := b.must("check", "--db"); !strings.Contains(out, "configuration OK") || !strings.Contains(out, "mailbase OK: ") {
		t.Errorf("check --db with the server running printed:\n%s", out)
	}
	if out := b.must("maint"); !strings.Contains(out, "purged 0 deleted and 0 read messages") || !strings.Contains(out, "compact skipped: the server is running") {
		t.Errorf("maint with the server running printed:\n%s", out)
	}
	if _, errOut, code := b.run("", "restore", file); code == 0 || !strings.Contains(errOut, "the server is running") {
		t.Errorf("restore with the server running: exit %d, %q", code, errOut)
	}

	b.stop()
	if out := b.must("restore", file); !strings.Contains(out, "restored "+file) {
		t.Errorf("restore printed %q", out)
	}
	if out := b.must("check", "--db"); !strings.Contains(out, "mailbase OK: ") {
		t.Errorf("check --db on the restored mailbase printed:\n%s", out)
	}
	if out := b.must("maint"); !strings.Contains(out, "compacted ") {
		t.Errorf("maint with the server stopped printed:\n%s", out)
	}
	coreRestart(b)
	rows := coreMailList(b, "Digital Man")
	for i := range 5 {
		if !coreHasSubject(rows, fmt.Sprintf("before backup %d", i)) {
			t.Errorf("restored mailbox lacks %q:\n%s", fmt.Sprintf("before backup %d", i), strings.Join(rows, "\n"))
		}
	}
	if coreHasSubject(rows, "after backup") {
		t.Errorf("restored mailbox has mail that came after the backup:\n%s", strings.Join(rows, "\n"))
	}
}

// A backup of a mailbase with no server running reads the file itself.
func TestBackupOffline(t *testing.T) {
	b := newBBS(t)
	b.addUser("Digital Man", "Backup-Pass-1")
	file := filepath.Join(t.TempDir(), "offline.backup")
	if out := b.must("backup", file); !strings.Contains(out, "1 users") {
		t.Errorf("offline backup printed %q", out)
	}
	if _, errOut, code := b.run("", "restore", filepath.Join(t.TempDir(), "missing")); code == 0 || errOut == "" {
		t.Errorf("restore of a missing file: exit %d, %q", code, errOut)
	}
}
