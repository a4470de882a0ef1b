package ars_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bbsmail/bbsmail/ars"
)

// stockFromSynchronet are the requirement strings of Synchronet's own ctrl/
// files that the repository's sample trees do not carry (xtrn.ini, file.ini,
// chat.ini, modopts.ini).
var stockFromSynchronet = []string{
	"ANSI",
	"ANSI AND COLS 80",
	"ANSI AND !GUEST",
	"SYSOP",
	"LEVEL 90",
	"LEVEL 90 OR REST Q",
	"REST Q",
	"USER=1",
	"USER=0",
	"AGE 18",
	"WIN32",
	"not guest",
	"COLS 80",
	"COLS 80 AND ANSI",
	"SHELL LBSHELL",
	"user equal 0 or guest",
}

// ctrlRequirements returns, per "file:line", every requirement string in the
// .ini files of dir: keys named ars, *_ars, *.ars or *Requirements.
func ctrlRequirements(t *testing.T, dir string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.ini"))
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for line := 1; sc.Scan(); line++ {
			text := strings.TrimSpace(sc.Text())
			key, value, ok := strings.Cut(text, "=")
			if !ok || strings.HasPrefix(text, ";") {
				continue
			}
			key = strings.ToLower(strings.TrimSpace(key))
			if strings.HasSuffix(key, "ars") || strings.HasSuffix(key, "requirements") {
				found[filepath.Base(name)+":"+strconv.Itoa(line)] = strings.TrimSpace(value)
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	return found
}

// Every requirement string shipped with Synchronet must load unchanged.
func TestStockRequirementsParse(t *testing.T) {
	t.Parallel()
	all := map[string]string{}
	for _, dir := range []string{"synchronet-stock", "bbs"} {
		for where, s := range ctrlRequirements(t, filepath.Join("..", "testdata", dir, "ctrl")) {
			all[dir+"/"+where] = s
		}
	}
	nonEmpty := 0
	for _, s := range all {
		if s != "" {
			nonEmpty++
		}
	}
	if nonEmpty < 5 {
		t.Fatalf("found only %d non-empty requirement strings in testdata: %q", nonEmpty, all)
	}
	for i, s := range stockFromSynchronet {
		all["synchronet ctrl #"+strconv.Itoa(i)] = s
	}
	for where, s := range all {
		if _, err := ars.Parse(s); err != nil {
			t.Errorf("%s: %q: %v", where, s, err)
		}
	}
}

// The stock strings that matter to the mail server do what the stock files
// mean by them.
func TestStockMailRequirements(t *testing.T) {
	t.Parallel()
	nobody := ars.Subject{Protocol: "SMTP"}
	guest := ars.Subject{Number: 2, Alias: "Guest", Level: 10, Restrict: "G"}
	user := ars.Subject{Number: 5, Alias: "Reader", Level: 50}
	sysop := ars.Subject{Number: 1, Alias: "Sysop", Level: 90}
	tests := []struct {
		where, ars string
		s          ars.Subject
		want       bool
	}{
		{"mailproc.ini AccessRequirements", "user equal 0 or guest", nobody, true},
		{"mailproc.ini AccessRequirements", "user equal 0 or guest", guest, true},
		{"mailproc.ini AccessRequirements", "user equal 0 or guest", user, false},
		{"msgs.ini post_ars", "SYSOP", sysop, true},
		{"msgs.ini post_ars", "SYSOP", user, false},
		{"msgs.ini post_ars", "SYSOP", nobody, false},
		{"msgs.ini post_ars", "USER=0", nobody, true},
		{"msgs.ini post_ars", "USER=0", user, false},
		{"msgs.ini ars", "LEVEL 90 OR REST Q", ars.Subject{Number: 9, Restrict: "Q"}, true},
		{"msgs.ini ars", "LEVEL 90 OR REST Q", user, false},
		{"sbbs.ini LoginRequirements", "", nobody, true},
	}
	for _, tc := range tests {
		got, err := ars.Check(tc.ars, tc.s)
		if err != nil || got != tc.want {
			t.Errorf("%s %q for user #%d = %v, %v; want %v", tc.where, tc.ars, tc.s.Number, got, err, tc.want)
		}
	}
}
