package test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The first account a sysop creates on a new system is the sysop's: user
// add gives Synchronet's sysop level 90 while no user has level 90 or more,
// says so, and then goes back to the default level 10. An explicit --level
// always wins, and a user base imported from Synchronet brings its own
// sysop, so no second one is made.
func TestUserAddFirstSysop(t *testing.T) {
	t.Parallel()
	t.Run("empty base", func(t *testing.T) {
		b := newBBS(t)
		b.writeIni()
		sysopAdd(b, "Sysop", 1, 90, true)
		sysopAdd(b, "Member", 2, 10, false)
	})
	t.Run("explicit level", func(t *testing.T) {
		b := newBBS(t)
		b.writeIni()
		sysopAdd(b, "Cosysop", 1, 50, false, "--level", "50")
		// Still no sysop: the next user without --level becomes it.
		sysopAdd(b, "Owner", 2, 90, true)
		// --level below the sysop's, with a sysop present, is kept too.
		sysopAdd(b, "Guest", 3, 0, false, "--level", "0")
	})
	imports := []struct {
		name    string
		sysop   string // alias of record 1
		deleted string // its misc field: "1" is DELETED
		level   int    // its level
		want    int    // the level user add then gives
	}{
		{"import brings the sysop", "Digital Man", "0", 90, 10},
		// A deleted sysop administers nothing: it does not count.
		{"import without a sysop", "Gone Sysop", "1", 99, 90},
	}
	for _, c := range imports {
		t.Run(c.name, func(t *testing.T) {
			b := newBBS(t)
			b.writeIni()
			b.must("user", "import", writeUserTab(t, userTabRecord("1", c.sysop, "", c.deleted, "sync-pass", itoa(c.level))+
				userTabRecord("2", "Regular", "", "0", "reg-pass", "50")))
			sysopAdd(b, "Owner", 3, c.want, c.want == 90)
		})
	}
}

// sysopAdd adds alias and checks its number, its level and whether user add
// said it got the sysop's level.
func sysopAdd(b *bbs, alias string, num, level int, notice bool, extra ...string) {
	b.t.Helper()
	args := append([]string{"user", "add", "--password", "-"}, extra...)
	out, errOut, code := b.run("Sysop-Pass-1\n", append(args, alias)...)
	if code != 0 || strings.TrimSpace(out) != itoa(num) {
		b.t.Fatalf("user add %s: exit %d, printed %q (want only the number %d)\n%s", alias, code, out, num, errOut)
	}
	said := strings.Contains(errOut, "sysop's level 90")
	if said != notice {
		b.t.Errorf("user add %s: notice of the sysop level %v, want %v: %q", alias, said, notice, errOut)
	}
	shown := b.must("user", "set", alias)
	m := regexp.MustCompile(`level=(\d+)`).FindStringSubmatch(shown)
	if m == nil || m[1] != strconv.Itoa(level) {
		b.t.Errorf("user %s: %q, want level %d", alias, strings.TrimSpace(shown), level)
	}
}
