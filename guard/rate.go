package guard

import (
	"strconv"
	"sync"
	"time"
)

// rateSlots divides the rate-limit period: a command is counted in the
// slot of its time, and the window is the last rateSlots slots. Counts
// are therefore exact to 1/32 of the period (under two minutes for the
// default hour) at a fixed 140 bytes or so per client.
const rateSlots = 32

// maxRateKeys caps the clients (addresses or subnets) counted at once.
const maxRateKeys = 65536

// limiter is a sliding-window request counter per address or subnet
// (MaxRequestsPerPeriod per RequestRateLimitPeriod).
type limiter struct {
	now func() time.Time

	mu        sync.Mutex
	max       int
	period    time.Duration
	prefix4   int
	prefix6   int
	windows   map[string]*window
	lastSweep time.Time
}

// window holds one client's counts: counts[i % rateSlots] for slot i, the
// newest slot being head.
type window struct {
	head   int64
	counts [rateSlots]uint32
}

func newLimiter(now func() time.Time) *limiter {
	return &limiter{now: now, windows: map[string]*window{}}
}

func (l *limiter) configure(max int, period time.Duration, prefix4, prefix6 int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if period != l.period || prefix4 != l.prefix4 || prefix6 != l.prefix6 {
		clear(l.windows)
	}
	l.max, l.period, l.prefix4, l.prefix6 = max, period, prefix4, prefix6
}

// slotLen is the duration of one slot; never zero.
func (l *limiter) slotLen() time.Duration { return max(l.period/rateSlots, 1) }

func (l *limiter) allow(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.max <= 0 || l.period <= 0 {
		return true
	}
	key := rateKey(ip, l.prefix4, l.prefix6)
	now := l.now()
	slot := now.UnixNano() / int64(l.slotLen())
	l.sweepLocked(now, slot)
	w := l.windows[key]
	if w == nil {
		if len(l.windows) >= maxRateKeys {
			// Full under a flood of addresses: drop any one (map order is
			// unspecified), in constant time.
			for k := range l.windows {
				delete(l.windows, k)
				break
			}
		}
		w = &window{head: slot}
		l.windows[key] = w
	}
	w.advance(slot)
	if w.total() >= uint64(l.max) {
		return false
	}
	w.counts[slot%rateSlots]++
	return true
}

// advance moves the window to slot, emptying the slots it leaves behind.
func (w *window) advance(slot int64) {
	if slot <= w.head {
		return
	}
	if slot-w.head >= rateSlots {
		clear(w.counts[:])
	} else {
		for s := w.head + 1; s <= slot; s++ {
			w.counts[s%rateSlots] = 0
		}
	}
	w.head = slot
}

func (w *window) total() uint64 {
	var n uint64
	for _, c := range w.counts {
		n += uint64(c)
	}
	return n
}

// sweepLocked forgets clients that sent nothing for a whole period, at
// most once a period.
func (l *limiter) sweepLocked(now time.Time, slot int64) {
	if now.Sub(l.lastSweep) < l.period {
		return
	}
	l.lastSweep = now
	for k, w := range l.windows {
		if slot-w.head >= rateSlots {
			delete(l.windows, k)
		}
	}
}

// rateKey is the bucket a client counts in: its address, or with a
// prefix between 1 and the address length minus one, its subnet in CIDR
// form ("192.0.2.0/24"), as Synchronet keys it.
func rateKey(ip string, prefix4, prefix6 int) string {
	a, ok := parseIP(ip)
	if !ok {
		return ip
	}
	bits, size := prefix6, 128
	if a.Is4() {
		bits, size = prefix4, 32
	}
	if bits <= 0 || bits >= size {
		return a.String()
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return a.String()
	}
	return p.Masked().Addr().String() + "/" + strconv.Itoa(bits)
}
