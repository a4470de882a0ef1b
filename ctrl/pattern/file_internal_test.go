package pattern

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A File looks at its file at most once per RecheckInterval: an edit is
// not seen before the interval has passed (nor is the file stat'ed), and is
// seen after it, without a call to Invalidate. Append and Invalidate make
// the next check look at once. The clock is the File's own, moved by hand.
func TestFileRechecksOncePerInterval(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ip.can")
	write := func(text string, mtime time.Time) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	base := time.Now()
	write("10.0.0.1\n", base)
	clock := base
	f := NewFile(path)
	f.now = func() time.Time { return clock }
	if !f.Match("10.0.0.1") {
		t.Fatal("the list is not read at first use")
	}

	write("10.0.0.2\n", base.Add(time.Hour))
	clock = clock.Add(RecheckInterval - time.Millisecond)
	if !f.Match("10.0.0.1") || f.Match("10.0.0.2") {
		t.Fatal("the file was looked at again within RecheckInterval")
	}
	clock = clock.Add(time.Millisecond)
	if f.Match("10.0.0.1") || !f.Match("10.0.0.2") {
		t.Fatal("an edit is not seen once RecheckInterval has passed")
	}

	// A removed file: not seen within the interval, seen after Invalidate.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if !f.Match("10.0.0.2") {
		t.Fatal("the file was looked at again within RecheckInterval")
	}
	f.Invalidate()
	if f.Match("10.0.0.2") {
		t.Fatal("Invalidate did not make the next check look at the file")
	}

	// Append: the next check sees the entry, with no time passing.
	if err := f.Append("10.0.0.3"); err != nil {
		t.Fatal(err)
	}
	if !f.Match("10.0.0.3") {
		t.Fatal("an appended entry is not seen at the next check")
	}
}
