package smtpd

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"
)

// A message starts in a pooled buffer: a small one needs no reservation
// of its own (no mmap and munmap per message). A text that outgrows the pooled buffer keeps every line, in order, across
// the move to its reservation (on Linux) or the heap, and the budget is
// whole again after free.
func TestTextBufSmallPooledLargeMoved(t *testing.T) {
	var b dataBudget
	const maxMsg = 4 << 20
	small := newTextBuf(&b, 0, maxMsg)
	if !small.grow(0) || !small.add([]byte("Subject: small")) {
		t.Fatal("no room for a small message")
	}
	if small.mapped != nil {
		t.Error("a small message reserved an address range")
	}
	if got := string(small.bytes()); got != "Subject: small\r\n" {
		t.Errorf("small text %q", got)
	}
	small.free()

	big := newTextBuf(&b, 0, maxMsg)
	var want bytes.Buffer
	for i := 0; want.Len() < 3*smallText; i++ {
		line := fmt.Appendf(nil, "line %06d %s", i, bytes.Repeat([]byte{'x'}, 70))
		if !big.add(line) {
			t.Fatalf("no room at %d octets", want.Len())
		}
		want.Write(line)
		want.WriteString("\r\n")
	}
	if !bytes.Equal(big.bytes(), want.Bytes()) {
		t.Fatal("the text changed when it outgrew the pooled buffer")
	}
	if runtime.GOOS == "linux" && big.mapped == nil {
		t.Error("a large message did not move to a reserved range")
	}
	if b.inUse() != budgetStep {
		t.Errorf("budget held %d, want one step", b.inUse())
	}
	big.free()
	if b.inUse() != 0 {
		t.Errorf("budget held %d after free", b.inUse())
	}
}

// A text can never outgrow MaxMsgSize's reservation: the add that would
// is refused and the text stays as it was.
func TestTextBufRefusesPastReservation(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reservations are Linux only; elsewhere the text is an ordinary slice")
	}
	var b dataBudget
	tb := newTextBuf(&b, 0, 2*smallText)
	defer tb.free()
	line := bytes.Repeat([]byte{'y'}, 998)
	n := 0
	for tb.add(line) {
		n++
		if n > 1000 {
			t.Fatal("the text grew past its reservation")
		}
	}
	if got := len(tb.bytes()); got != n*1000 || got > 2*smallText {
		t.Errorf("text is %d octets after %d lines", got, n)
	}
}
