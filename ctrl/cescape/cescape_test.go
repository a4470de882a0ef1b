package cescape_test

import (
	"testing"

	"github.com/bbsmail/bbsmail/ctrl/cescape"
)

func TestUnescape(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{`a\nb`: "a\nb", `\x41\101`: "AA", `C:\sbbs`: `C:\sbbs`, `end\`: `end\`} {
		if got := cescape.Unescape(in); got != want {
			t.Errorf("Unescape(%q) = %q, want %q", in, got, want)
		}
	}
}
