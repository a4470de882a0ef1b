package pattern_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/ctrl/pattern"
)

func TestMatchRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		list string
		in   []string
		want bool
	}{
		{"exact", "spammer@evil.example\n", []string{"spammer@evil.example"}, true},
		{"exact ignores case", "Spammer@Evil.Example\n", []string{"SPAMMER@evil.example"}, true},
		{"exact is not a substring", "evil.example\n", []string{"mail.evil.example"}, false},
		{"contains", "viagra~\n", []string{"Buy VIAGRA now"}, true},
		{"contains misses", "viagra~\n", []string{"hello"}, false},
		{"starts with", "mail.^\n", []string{"mail.example.org"}, true},
		{"starts with misses", "mail.^\n", []string{"smtp.mail.example"}, false},
		{"wildcard suffix", "*.spam.example\n", []string{"host1.spam.example"}, true},
		{"wildcard prefix and suffix", "spam@*.example\n", []string{"spam@x.example"}, true},
		{"wildcard needs both parts", "spam@*.example\n", []string{"spam@x.example.org"}, false},
		{"wildcard parts may not overlap", "ab*ba\n", []string{"aba"}, false},
		{"only the first star is a wildcard", "a*b*\n", []string{"axxb*"}, true},
		{"second star is literal", "a*b*\n", []string{"axxbyy"}, false},
		{"ipv4 cidr", "10.0.0.0/8\n", []string{"10.1.2.3"}, true},
		{"ipv4 cidr misses", "10.0.0.0/8\n", []string{"11.1.2.3"}, false},
		{"ipv4 cidr unmasked base", "192.168.1.77/24\n", []string{"192.168.1.3"}, true},
		{"ipv6 cidr", "2001:db8::/32\n", []string{"2001:db8:1::5"}, true},
		{"ipv6 cidr ignores ipv4", "::/0\n", []string{"10.0.0.1"}, false},
		{"ipv4 cidr ignores hostnames", "10.0.0.0/8\n", []string{"10.0.0.0.example"}, false},
		{"ipv4-mapped address", "10.0.0.0/8\n", []string{"::ffff:10.0.0.1"}, true},
		{"comment never matches", ";foo\n", []string{";foo"}, false},
		{"leading spaces skipped", "   foo\n", []string{"foo"}, true},
		{"trailing CR ignored", "foo\r\n", []string{"foo"}, true},
		{"metadata after tab", "1.2.3.4\tt=20250101T000000Z\tr=bait\n", []string{"1.2.3.4"}, true},
		{"c escape", `a\x41b` + "\n", []string{"aab"}, true},
		{"empty file", "", []string{"x"}, false},
		{"only comments", "; a\n\n;b\n", []string{"a"}, false},
		{"two strings: second matches", "*.bad.example\n", []string{"1.2.3.4", "mx.bad.example"}, true},
		{"two strings: neither", "*.bad.example\n", []string{"1.2.3.4", "mx.good.example"}, false},
		{"negation alone matches everything else", "!good@example.org\n", []string{"other@example.org"}, true},
		{"negation alone excludes its own", "!good@example.org\n", []string{"good@example.org"}, false},
		{"negation before broader line excludes", "!ok.example\n*.example\nok.example~\n", []string{"ok.example"}, false},
		{"broader line after negation matches others", "!ok.example\n*.example\n", []string{"bad.example"}, true},
		{"last line tested decides", "!a\nb\n", []string{"c"}, false},
		{"negation after normal line", "b\n!a\n", []string{"c"}, true},
		{"normal match stops before negation", "x~\n!xy\n", []string{"xy"}, true},
		{"negated wildcard", "!*@friend.example\n", []string{"joe@friend.example"}, false},
		{"negation with two strings", "!1.2.3.4\n", []string{"1.2.3.4", "host"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := pattern.MustParse(tt.list)
			if got := l.Match(tt.in...); got != tt.want {
				t.Errorf("list %q Match(%q) = %v, want %v", tt.list, tt.in, got, tt.want)
			}
		})
	}
}

func TestExpiredEntriesDoNotMatch(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	l := pattern.MustParse("1.2.3.4\te=20250101T000000Z\n5.6.7.8\te=2026-01-01T00:00:00Z\n!9.9.9.9\te=20200101T000000Z\n")
	if _, ok := l.Lookup(now, "1.2.3.4"); ok {
		t.Error("an entry that expired in January still blocks in June")
	}
	e, ok := l.Lookup(now, "5.6.7.8")
	if !ok || e.Line != 2 {
		t.Errorf("unexpired entry: ok=%v line=%d, want true, 2", ok, e.Line)
	}
	// The expired "!9.9.9.9" is not tested, so it cannot make the list
	// match everything else.
	if _, ok := l.Lookup(now, "10.0.0.1"); ok {
		t.Error("an expired negation line still decides the result")
	}
}

func TestLookupReturnsMetadata(t *testing.T) {
	t.Parallel()
	l := pattern.MustParse("; auto\n203.0.113.9\tt=20250301T101500-0800\tp=SMTP\tr=SPAM BAIT (x@bbs.test) taken\tu=<a@b>\th=mx.example\tq\n")
	e, ok := l.Lookup(time.Now(), "203.0.113.9")
	if !ok {
		t.Fatal("no match")
	}
	want := time.Date(2025, 3, 1, 18, 15, 0, 0, time.UTC)
	if e.Line != 2 || e.Protocol != "SMTP" || e.Reason != "SPAM BAIT (x@bbs.test) taken" ||
		e.User != "<a@b>" || e.Host != "mx.example" || !e.Quiet || !e.Added.Equal(want) {
		t.Errorf("entry = %+v", e)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"ok\n10.0.0.0/33\n", "ok\n10.0.0.0/x\n", "1.2.3.4\te=tomorrow\n", "::1/129\n"} {
		_, err := pattern.Parse(strings.NewReader(in))
		var se *pattern.SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) error = %v, want *SyntaxError", in, err)
		}
	}
	// Slashes in non-address patterns are ordinary text.
	if _, err := pattern.Parse(strings.NewReader("50% off/today\n")); err != nil {
		t.Errorf("subject with a slash: %v", err)
	}
}

func TestFileReloadsWhenEdited(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "spamblock.cfg")
	f := pattern.NewFile(path)
	if f.Match("1.2.3.4") {
		t.Fatal("a missing file blocks")
	}
	// Invalidate stands for RecheckInterval passing (file_internal_test.go
	// shows the interval itself).
	writeFile(t, path, "; blocked hosts\n1.2.3.4\n")
	f.Invalidate()
	if !f.Match("1.2.3.4") {
		t.Fatal("a new file is not read")
	}
	// Same size, different content: the mtime tells.
	writeFile(t, path, "; blocked hosts\n1.2.3.5\n")
	setMtime(t, path, time.Now().Add(time.Hour))
	f.Invalidate()
	if f.Match("1.2.3.4") || !f.Match("1.2.3.5") {
		t.Fatal("an edited file is not re-read")
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	f.Invalidate()
	if f.Match("1.2.3.5") {
		t.Fatal("a deleted file still blocks")
	}
}

func TestFileKeepsLastGoodListOnBrokenEdit(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "relay.cfg")
	writeFile(t, path, "10.0.0.0/8\n")
	f, err := pattern.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, "10.0.0.0/99\n")
	setMtime(t, path, time.Now().Add(time.Hour))
	f.Invalidate()
	if !f.Match("10.1.1.1") {
		t.Error("a broken edit dropped the working list")
	}
	if f.Err() == nil {
		t.Error("a broken edit is not reported by Err")
	}
}

func TestAppendIsSeenAndKeepsLines(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "spamblock.cfg")
	writeFile(t, path, "; no newline at the end\n1.1.1.1")
	f := pattern.NewFile(path)
	if !f.Match("1.1.1.1") {
		t.Fatal("last line without newline not read")
	}
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	line := pattern.FormatLine("2.2.2.2", pattern.Meta{Added: now, Protocol: "SMTP",
		Reason: "SPAM BAIT (bait@bbs.test) taken", User: "<spam\t@x>", Host: "mx.x"})
	if err := f.Append(line); err != nil {
		t.Fatal(err)
	}
	if !f.Match("1.1.1.1") || !f.Match("2.2.2.2") {
		t.Fatalf("after Append: file is %q", readFile(t, path))
	}
	e, _ := f.Lookup(now, "2.2.2.2")
	if e.Reason != "SPAM BAIT (bait@bbs.test) taken" || e.User != "<spam @x>" || !e.Added.Equal(now) {
		t.Errorf("appended entry read back as %+v", e)
	}
}

func TestConcurrentAppendsDoNotInterleave(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "dnsbl_exempt.cfg")
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := pattern.Append(path, strings.Repeat(string(rune('a'+i)), 300)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(readFile(t, path), "\n"), "\n")
	if len(lines) != 20 {
		t.Fatalf("%d lines, want 20", len(lines))
	}
	for _, l := range lines {
		if len(l) != 300 || strings.Trim(l, l[:1]) != "" {
			t.Errorf("interleaved line %q", l)
		}
	}
}

func TestTimeRoundTrip(t *testing.T) {
	t.Parallel()
	now := time.Now().Truncate(time.Second)
	got, err := pattern.ParseTime(pattern.FormatTime(now))
	if err != nil || !got.Equal(now) {
		t.Errorf("round trip of %v = %v, %v", now, got, err)
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func setMtime(t *testing.T, path string, when time.Time) {
	t.Helper()
	if err := os.Chtimes(path, when, when); err != nil {
		t.Fatal(err)
	}
}
