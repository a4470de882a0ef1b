package smtpd

import "sync"

// Memory for message text in flight.
//
// A message is held whole until Deliver has committed it: bbolt needs the
// value in memory to store it, and the 250 waits for the commit. So the
// memory a message costs is bounded, not avoided:
//
//   - the text goes into one buffer (textBuf). It starts in a pooled
//     buffer of smallText octets, reused from message to message, which
//     holds most mail whole; a text that outgrows it is copied once into
//     a larger home and never again while it grows: where the system
//     allows, an address range of MaxMsgSize reserved then, whose pages
//     become resident only as the text fills them and go back to the
//     system when the message is done; elsewhere an ordinary growing
//     slice. Mapping and unmapping a range for every message cost a
//     system call each and the unmap a TLB flush on every core;
//   - the server holds a share of one process-wide budget
//     (Config.MaxDataInFlight) for every octet it keeps; a message that
//     cannot get its share is answered 452 4.3.1 and the rest of it is read
//     and dropped, as is the rest of a message over MaxMsgSize.
//
// The store's commit makes one more copy of each message (bbolt's dirty
// pages), so the peak is about twice the budget plus the process's
// ordinary use.

// budgetStep is how much of the budget a message takes at a time.
const budgetStep = 1 << 20

// dataBudget counts the octets of message text that DATA transactions
// hold, over every session of the server.
type dataBudget struct {
	mu   sync.Mutex
	used int64
}

// take reserves n octets when the total stays within limit (0: no limit).
func (b *dataBudget) take(n, limit int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if limit > 0 && b.used+n > limit {
		return false
	}
	b.used += n
	return true
}

func (b *dataBudget) give(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

// inUse reports the octets held now (for tests and the log).
func (b *dataBudget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// smallText is the size of the pooled buffers a message starts in: 64 KiB
// holds nearly all mail, and twenty sessions' worth is about a megabyte.
const smallText = 64 << 10

// smallBufs holds the buffers of smallText octets that no message uses.
var smallBufs = sync.Pool{New: func() any {
	b := make([]byte, 0, smallText)
	return &b
}}

// textBuf is the message text of one DATA transaction. It belongs to the
// session goroutine; free must be called once the text is no longer used
// by anyone (after Deliver returned): its memory is then reused.
type textBuf struct {
	text   []byte  // the text so far
	small  *[]byte // the pooled buffer, until free gives it back
	mapped []byte  // the reserved range once the text lives there
	max    int64   // the largest text there can be; 0: unknown
	budget *dataBudget
	limit  int64 // the budget's limit
	held   int64 // octets of the budget held
}

// newTextBuf returns an empty buffer for a message of at most max octets
// (0: unknown) under the budget b with the given limit.
func newTextBuf(b *dataBudget, limit, max int64) *textBuf {
	t := &textBuf{budget: b, limit: limit}
	if max <= 0 || (limit > 0 && limit < max) {
		max = limit // no message can outgrow the whole budget
	}
	t.max = max
	t.small = smallBufs.Get().(*[]byte)
	t.text = (*t.small)[:0]
	return t
}

// add appends line and CR LF. It reports false, and keeps nothing more,
// when the budget or the reservation has no room for them.
func (t *textBuf) add(line []byte) bool {
	if !t.grow(len(line) + 2) {
		return false
	}
	t.text = append(append(t.text, line...), '\r', '\n')
	return true
}

// grow makes room for n more octets, taking budget as needed; it always
// holds at least one step, so grow(0) asks for the first one. A text that
// outgrows the pooled buffer moves to a reserved range where the system
// allows one (it is copied this once), else to the Go heap.
func (t *textBuf) grow(n int) bool {
	need := max(int64(len(t.text)+n), 1)
	for t.held < need {
		if !t.budget.take(budgetStep, t.limit) {
			return false
		}
		t.held += budgetStep
	}
	if int64(cap(t.text)) >= need {
		return true
	}
	if t.mapped != nil {
		return false // the reservation is MaxMsgSize: nothing more fits
	}
	if t.max > 0 {
		if m := reserve(t.max); m != nil {
			if int64(len(m)) < need {
				release(m)
				return false
			}
			t.mapped = m
			t.text = append(m[:0], t.text...)
			return int64(cap(t.text)) >= need
		}
	}
	return true // an ordinary slice: append grows it
}

// bytes returns the text; it is valid until free.
func (t *textBuf) bytes() []byte { return t.text }

// free gives the memory and the budget back. The text must not be used
// afterwards.
func (t *textBuf) free() {
	if t == nil {
		return
	}
	if t.mapped != nil {
		release(t.mapped)
		t.mapped = nil
	}
	if t.small != nil {
		*t.small = (*t.small)[:0]
		smallBufs.Put(t.small)
		t.small = nil
	}
	t.text = nil
	t.budget.give(t.held)
	t.held = 0
}
