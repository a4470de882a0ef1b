package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A sysop moving from Synchronet imports data/user/user.tab while the server
// runs: the users keep their numbers, log in to POP3 with their Synchronet
// passwords and receive mail at once; deleted users stay deleted.
func TestUserImportSynchronetTab(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.start()
	// Record 2 has the DELETED bit.
	data := writeUserTab(t, userTabRecord("1", "Digital Man", "Rob Swindell", "0", "SYNC-PASS-9", "90")+
		userTabRecord("2", "Old Timer", "", "1", "gone", "10"))
	out := b.must("user", "import", data)
	if !strings.Contains(out, "#1 Digital Man: imported") || !strings.Contains(out, "2 users imported, 0 skipped") {
		t.Fatalf("user import:\n%s", out)
	}
	coreDeliver(t, b, "joe@example.org", "digital.man@bbs.test", "welcome to bbsmail")
	python(t, "core_pop3.py", coreHost, itoa(b.ports.POP3), "plain", "Digital Man", "sync-pass-9", "1")
	if _, errOut, code := b.run("", "mail", "list", "Old Timer"); code == 0 {
		t.Errorf("the deleted Synchronet user has a mailbox:\n%s", errOut)
	}
}

// userTabRecord is a user record as Synchronet 3.20+ writes it: fields in
// userfields.h order (1 alias, 2 name, 16 misc, 47 password, 49 level),
// tab-padded to 999 bytes and a LF.
func userTabRecord(number, alias, name, misc, pass, level string) string {
	f := make([]string, 67)
	f[0], f[1], f[2], f[16], f[47], f[49] = number, alias, name, misc, pass, level
	line := strings.Join(f, "\t")
	return line + strings.Repeat("\t", 999-len(line)) + "\n"
}

// writeUserTab writes records as a Synchronet data/user/user.tab and
// returns the data directory.
func writeUserTab(t *testing.T, records string) string {
	t.Helper()
	data := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(filepath.Join(data, "user"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "user", "user.tab"), []byte(records), 0o644); err != nil {
		t.Fatal(err)
	}
	return data
}
