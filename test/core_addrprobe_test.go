package test

import (
	"strings"
	"testing"
)

// More hostile recipient forms from a stranger on port 25, beyond the
// alias battery: empty paths behind a source route, escapes outside
// quotes, stray and doubled '@', brackets around a local domain, trailing
// dots and very long local parts. Each gets a 5xx reply or, for a real
// local recipient, 250; nothing is queued for another host.
func TestCoreHostileRecipientForms(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.start()
	b.addUser("Digital Man", "Probe-Pass-1")
	long := strings.Repeat("a", 400)
	for _, c := range []struct {
		rcpt string
		ok   bool // a local recipient: 250 is right
	}{
		{"<@bbs.test:>", false},
		{"<@bbs.test,@evil.example:>", false},
		{"<>", false},
		{"<@>", false},
		{"<@@>", false},
		{"<.@bbs.test>", false},
		{"<digital.man@bbs.test@>", false},
		{`<victim@evil.example\@bbs.test>`, false},
		{`<"victim@evil.example\"@bbs.test">`, false},
		{`<"victim\@evil.example"@bbs.test>`, false},
		{`<victim\"@evil.example"@bbs.test>`, false},
		{"<victim@[bbs.test]>", false},
		{"<victim@evil.example%bbs.test>", false},
		{"<victim@evil.example!bbs.test>", false},
		{"<" + long + "@bbs.test>", false},
		{"<" + long + "@evil.example>", false},
		{"<digital.man@evil.example>", false},
		{"<digital.man@bbs.test>", true},
		{"<Digital.Man@BBS.TEST>", true},
		// A trailing dot makes another domain name, as in Synchronet.
		{"<digital.man@bbs.test.>", false},
		{"<@evil.example:digital.man@bbs.test>", true},
	} {
		r := addrRcpt(t, b, addrStranger, "spammer@evil.example", c.rcpt)
		switch {
		case c.ok && !strings.HasPrefix(r, "250 "):
			t.Errorf("RCPT TO:%s: got %q, want 250", c.rcpt, r)
		case !c.ok && !strings.HasPrefix(r, "5"):
			t.Errorf("RCPT TO:%s: got %q, want 5xx", c.rcpt, r)
		}
	}
	if q := coreQueueList(b); !strings.Contains(q, "0 entries") {
		t.Fatalf("a stranger's recipient was queued:\n%s", q)
	}
}
