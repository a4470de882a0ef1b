package admin_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bbsmail/bbsmail/admin"
)

// tabUser is one user.tab record as Synchronet writes it: the fields in
// userfields.h order, padded with tabs to 999 bytes and a LF.
type tabUser struct {
	alias, name, netmail, pass, level, misc, flags1, exempt, rest string
}

func (u tabUser) record(number int) string {
	f := make([]string, 67) // USER_FIELD_COUNT of Synchronet 3.21
	f[0] = string(rune('0' + number))
	f[1], f[2], f[7], f[16], f[47], f[49], f[50], f[54], f[55] =
		u.alias, u.name, u.netmail, u.misc, u.pass, u.level, u.flags1, u.exempt, u.rest
	line := strings.Join(f, "\t")
	return line + strings.Repeat("\t", 999-len(line)) + "\n"
}

// WriteUserTab writes a user.tab in dir/user/ and returns dir.
func writeUserTab(t *testing.T, users ...tabUser) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	for i, u := range users {
		b.WriteString(u.record(i + 1))
	}
	if err := os.MkdirAll(filepath.Join(dir, "user"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "user", "user.tab"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// The users of a Synchronet 3.20+ BBS come over with their numbers,
// passwords (hashed on the way in), levels, flags, restrictions and
// exemptions, forwarding and deleted state; bad records are skipped and
// named; a second run changes nothing.
func TestUserImportTab(t *testing.T) {
	db := openDB(t)
	env := admin.Env{DB: db}
	dir := writeUserTab(t,
		tabUser{alias: "Sysop", name: "Rob Swindell", pass: "SECRET", level: "90", flags1: "AZ", exempt: "W", misc: "0"},
		tabUser{alias: "Gone", name: "Old User", pass: "x", level: "10", misc: "1"}, // DELETED
		tabUser{}, // a never-used slot
		tabUser{alias: "Fwd", netmail: "fwd@elsewhere.example", pass: "pw", level: "20", misc: "1000", rest: "GM"},
		tabUser{alias: "1234", pass: "pw", level: "10"}, // a number is no alias
		tabUser{alias: "Caf\x82", name: "Jos\x82", pass: "p\x82w", level: "10"},
	)
	// The dry run reports and changes nothing.
	out := must(t, env, "user", "import", "--dry-run", dir)
	if !strings.Contains(out, "4 users would be imported (dry run: nothing changed), 1 skipped") {
		t.Fatalf("dry run:\n%s", out)
	}
	if users, _ := db.Users(); len(users) != 0 {
		t.Fatalf("dry run stored %d users", len(users))
	}

	out = must(t, env, "user", "import", dir)
	for _, want := range []string{
		"user.tab: 6 user records",
		"#1 Sysop: imported",
		"#2 Gone: imported (deleted",
		"#4 Fwd: imported",
		`#5 1234: skipped: alias "1234" is a number`,
		"#6 Café: imported",
		"4 users imported, 1 skipped",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	sysop, err := db.User(1)
	if err != nil {
		t.Fatal(err)
	}
	if sysop.Alias != "Sysop" || sysop.RealName != "Rob Swindell" || sysop.Level != 90 || sysop.Flags1 != "AZ" || !sysop.ExemptW || sysop.Deleted {
		t.Errorf("user #1 = %+v", sysop)
	}
	if ok, _ := db.CheckPassword(context.Background(), 1, "secret"); !ok {
		t.Error("the imported password does not log in (Synchronet ignores case)")
	}
	if gone, _ := db.User(2); !gone.Deleted {
		t.Errorf("user #2 should be deleted: %+v", gone)
	}
	fwd, _ := db.User(4)
	if !fwd.Forward || fwd.NetMail != "fwd@elsewhere.example" || !fwd.RestrictG || !fwd.RestrictM || fwd.RestrictI {
		t.Errorf("user #4 = %+v", fwd)
	}
	if u, err := db.UserByAlias("café"); err != nil || u.Number != 6 || u.RealName != "José" {
		t.Errorf("CP437 alias: %+v %v", u, err)
	}
	if ok, _ := db.CheckPassword(context.Background(), 6, "pÉw"); !ok {
		t.Error("a CP437 password does not log in")
	}
	// New users continue above the imported numbers.
	if out := must(t, env, "user", "add", "--password", "pw", "newbie"); strings.TrimSpace(out) != "7" {
		t.Errorf("the next new user got %q, want 7", out)
	}
	// A second run leaves everything as it is.
	out = must(t, env, "user", "import", filepath.Join(dir, "user", "user.tab"))
	if !strings.Contains(out, "#1 Sysop: skipped: already in the mailbase") || !strings.Contains(out, "0 users imported") {
		t.Errorf("second import:\n%s", out)
	}
}

// The fixed-width user.dat of Synchronet 3.19 and earlier: fields end at
// ETX, flag sets are hexadecimal.
func TestUserImportDat(t *testing.T) {
	db := openDB(t)
	env := admin.Env{DB: db}
	rec := func(alias, pass, level, flags1, misc string) []byte {
		r := make([]byte, 834)
		for i := range r {
			r[i] = 3 // ETX
		}
		copy(r[0:], alias)
		copy(r[610:], pass)
		copy(r[497:], level)
		copy(r[499:], flags1)
		copy(r[538:], misc)
		return r
	}
	data := append(rec("Sysop", "PASSWORD", "90", "02000001", "00000000"), rec("Ghost", "pw", "10", "00000000", "00000040")...)
	path := filepath.Join(t.TempDir(), "user.dat")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out := must(t, env, "user", "import", path)
	if !strings.Contains(out, "2 users imported") {
		t.Fatalf("import:\n%s", out)
	}
	u, _ := db.User(1)
	if u.Alias != "Sysop" || u.Level != 90 || u.Flags1 != "AZ" {
		t.Errorf("user #1 = %+v", u)
	}
	if ok, _ := db.CheckPassword(context.Background(), 1, "password"); !ok {
		t.Error("the user.dat password does not log in")
	}
	if g, _ := db.User(2); !g.Inactive {
		t.Errorf("user #2 should be inactive: %+v", g)
	}
}

func TestUserImportErrors(t *testing.T) {
	db := openDB(t)
	env := admin.Env{DB: db}
	empty := t.TempDir()
	if _, e, code := run(t, env, "", "user", "import", empty); code == 0 || !strings.Contains(e, "no user.tab or user.dat") {
		t.Errorf("an empty directory: exit %d, %q", code, e)
	}
	bad := filepath.Join(empty, "user.dat")
	if err := os.WriteFile(bad, []byte("not a user base"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, e, code := run(t, env, "", "user", "import", bad); code == 0 || !strings.Contains(e, "not whole 834-byte records") {
		t.Errorf("a broken user.dat: exit %d, %q", code, e)
	}
	if _, e, code := run(t, env, "", "user", "import"); code != 2 || !strings.Contains(e, "PATH") {
		t.Errorf("no path: exit %d, %q", code, e)
	}
	if users, _ := db.Users(); len(users) != 0 {
		t.Errorf("failed imports stored %d users", len(users))
	}
}
