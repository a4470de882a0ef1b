package envelope

import "testing"

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
