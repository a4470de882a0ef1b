package pattern_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/ctrl/pattern"
)

// FuzzMatch parses arbitrary list text and matches arbitrary input: neither
// may panic, and a list that parsed must give the same answer twice.
func FuzzMatch(f *testing.F) {
	f.Add("*.example\n!ok.example\n", "ok.example", "1.2.3.4")
	f.Add("10.0.0.0/8\t e=20250101T000000Z\n", "10.0.0.1", "")
	f.Add("~\n^\n*\n!\n", "", "x")
	f.Fuzz(func(t *testing.T, list, a, b string) {
		l, err := pattern.Parse(strings.NewReader(list))
		if err != nil {
			return
		}
		now := time.Unix(1_700_000_000, 0)
		_, r1 := l.Lookup(now, a, b)
		_, r2 := l.Lookup(now, a, b)
		if r1 != r2 {
			t.Fatalf("Lookup not deterministic for %q", list)
		}
	})
}
