package test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
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
	// Root restoring and compacting a mailbase that belongs to the BBS user
	// (systemd's User=) leaves it that user's.
	db := filepath.Join(b.root, "data", "bbsmail.db")
	asRoot := os.Geteuid() == 0
	if asRoot {
		if err := os.Chown(db, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	if out := b.must("restore", file); !strings.Contains(out, "restored "+file) {
		t.Errorf("restore printed %q", out)
	}
	if asRoot {
		wantOwner(t, db, 65534)
	}
	if out := b.must("check", "--db"); !strings.Contains(out, "mailbase OK: ") {
		t.Errorf("check --db on the restored mailbase printed:\n%s", out)
	}
	if out := b.must("maint"); !strings.Contains(out, "compacted ") {
		t.Errorf("maint with the server stopped printed:\n%s", out)
	}
	if asRoot {
		wantOwner(t, db, 65534)
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

func wantOwner(t *testing.T, path string, uid uint32) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != uid || st.Gid != uid {
		t.Errorf("%s belongs to %d:%d, want %d:%d", path, st.Uid, st.Gid, uid, uid)
	}
}
