package envelope

import (
	"testing"
	"unicode/utf8"
)

// LogText escapes what a terminal acts on and keeps other text.
func TestLogText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain text\twith tab", "plain text\twith tab"},
		{"Grüße, Ça va", "Grüße, Ça va"},
		{"esc\x1b[2Jclear", `esc\x1b[2Jclear`},
		{"line\r\n2026-12-07 00:00:00 Warning forged", `line\x0d\x0a2026-12-07 00:00:00 Warning forged`},
		{"nul\x00bel\x07del\x7f", `nul\x00bel\x07del\x7f`},
		{"c1 \u009b31m osc \u009d0;t\u009c", `c1 \u009b31m osc \u009d0;t\u009c`},
		{"raw \x9b2J byte", `raw \x9b2J byte`},
		{"cp437 \xe9\xa0 kept", "cp437 \xe9\xa0 kept"},
		{"", ""},
	} {
		if got := LogText(c.in); got != c.want {
			t.Errorf("LogText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// FuzzLogText: whatever the input, the output holds nothing a terminal
// acts on and no line end, and clean text comes back unchanged.
func FuzzLogText(f *testing.F) {
	for _, s := range []string{"plain", "esc\x1b[2J", "c1 \u009b31m", "raw \x9b", "cp437 \xe9", "\r\n", "\xc2", "\xc2\x9b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := LogText(s)
		for i := 0; i < len(out); {
			r, n := utf8.DecodeRuneInString(out[i:])
			if (r < 0x20 && r != '\t') || (r >= 0x7f && r <= 0x9f) || (r == utf8.RuneError && n == 1 && out[i] <= 0x9f) {
				t.Fatalf("LogText(%q) = %q keeps %q at %d", s, out, out[i:i+n], i)
			}
			i += n
		}
		if logClean(s) != (out == s) {
			t.Fatalf("LogText(%q) = %q, but logClean says %v", s, out, logClean(s))
		}
	})
}
