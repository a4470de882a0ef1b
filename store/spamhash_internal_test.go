package store

import "testing"

// normalisedLength agrees with the length of normaliseBody's result,
// Ctrl-A at the very end included.
func TestNormalisedLength(t *testing.T) {
	for _, b := range []string{"", "abc", " a b\r\n", "\x01Rred\x01n", "x\x01", "\x01", "\x01\x01ab", "\t\t"} {
		if got, want := normalisedLength([]byte(b)), len(normaliseBody([]byte(b))); got != want {
			t.Errorf("normalisedLength(%q) = %d, want %d", b, got, want)
		}
	}
}
