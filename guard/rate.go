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

// maxMembers caps the distinct addresses remembered per subnet bucket.
const maxMembers = 256

// window holds one client's counts: counts[i % rateSlots] for slot i, the
// newest slot being head. denied counts the refusals since the client
// was last idle for a whole period, and members the distinct addresses
// refused in a subnet bucket (RateLimitFilter*).
type window struct {
	head    int64
	counts  [rateSlots]uint32
	denied  int
	members map[string]struct{}
}

// verdict is the limiter's answer to one request.
type verdict struct {
	ok       bool
	key      string // the bucket: the address, or its subnet in CIDR form
	addr     string // the client's address, canonical
	denials  int    // refusals of key while it stayed active (when !ok)
	distinct int    // distinct addresses refused in key (when !ok)
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

func (l *limiter) allow(ip string) verdict {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.max <= 0 || l.period <= 0 {
		return verdict{ok: true}
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
		v := verdict{key: key, addr: ip}
		if a, ok := parseIP(ip); ok {
			v.addr = a.String()
		}
		w.denied++
		if w.members == nil {
			w.members = map[string]struct{}{}
		}
		if len(w.members) < maxMembers {
			w.members[v.addr] = struct{}{}
		}
		v.denials, v.distinct = w.denied, len(w.members)
		return v
	}
	w.counts[slot%rateSlots]++
	return verdict{ok: true}
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
	if w.total() == 0 {
		// Idle for a whole period: the escalation starts over, as
		// Synchronet's rateLimiter forgets a client's denials then.
		w.denied, w.members = 0, nil
	}
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
