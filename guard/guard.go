package guard

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/bbsmail/bbsmail/ctrl/pattern"
	"github.com/bbsmail/bbsmail/envelope"
)

// Limits on the memory the guard may use, whatever the traffic.
const (
	// MaxTracked is the most addresses with failed logins kept at once.
	// When the table is full the address idle longest is forgotten.
	MaxTracked = 65536
	// MinRetention is how long a failed-login record is kept after the
	// last attempt at least; LoginAttemptTempBanDuration extends it.
	MinRetention = 24 * time.Hour
	// sweepEvery is how often expired records are looked for.
	sweepEvery = time.Minute
	// maxUser bounds the login name kept per address (and written to
	// hack.log and ip.can): a client may send kilobytes of it.
	maxUser = 128
)

// Matcher is a pattern list such as name.can or ipfilter_exempt.cfg
// (envelope.Matcher); the sysop's lists (ctrl/pattern) satisfy it.
type Matcher = envelope.Matcher

// Settings are sbbs.ini's LoginAttempt* keys, the [Mail] request rate limit
// and the files the guard writes. A zero threshold turns its feature off.
type Settings struct {
	// Throttle (LoginAttemptThrottle) is the pause per failed attempt
	// before the greeting, once an address has more than one.
	Throttle time.Duration
	// HackThreshold (LoginAttemptHackThreshold): from this many attempts
	// on, each failure is written to HackLog.
	HackThreshold int
	// TempBanThreshold (LoginAttemptTempBanThreshold) attempts ban the
	// address for TempBanDuration (LoginAttemptTempBanDuration) after the
	// last one. A duration of 0 bans nobody.
	TempBanThreshold int
	TempBanDuration  time.Duration
	// FilterThreshold (LoginAttemptFilterThreshold) attempts add the
	// address to IPFilter (text/ip.can) for FilterDuration
	// (LoginAttemptFilterDuration, 0 = for good).
	FilterThreshold int
	FilterDuration  time.Duration

	// MaxRequests (MaxRequestsPerPeriod) commands are allowed per
	// RequestPeriod (RequestRateLimitPeriod) and per address, or per
	// subnet when SubnetPrefix4/SubnetPrefix6 (RateLimitSubnetPrefix4/6)
	// are between 1 and 31 / 127. 0 turns the limit off.
	MaxRequests   int
	RequestPeriod time.Duration
	SubnetPrefix4 int
	SubnetPrefix6 int

	// RateFilterThreshold (RateLimitFilterThreshold) refusals of one
	// rate-limit bucket while it stays active add it to IPFilter, or to
	// IPSilentFilter with RateFilterSilent, for RateFilterDuration (0 =
	// for good). A subnet bucket is written whole only once
	// RateFilterSubnetThreshold of its addresses were refused; before
	// that, the offending address alone. 0 turns this off.
	RateFilterThreshold       int
	RateFilterDuration        time.Duration
	RateFilterSilent          bool
	RateFilterSubnetThreshold int

	// HackLog is the path of logs/hack.log; "" writes none.
	HackLog string
	// IPFilter is text/ip.can; nil turns automatic filtering off.
	IPFilter *pattern.File
	// IPSilentFilter is text/ip-silent.can (RateFilterSilent); nil turns
	// silent filtering off.
	IPSilentFilter *pattern.File
	// NameFilter (text/name.can) lists login names that ban an address
	// at the first try. May be nil.
	NameFilter Matcher
	// IPFilterExempt (ctrl/ipfilter_exempt.cfg, IP or host) is never
	// written to IPFilter. May be nil.
	IPFilterExempt Matcher
	// Logger receives the guard's own log lines; nil discards them.
	Logger *slog.Logger
}

// Guard tracks failed logins per client address and rate-limits
// commands, for every server of one process. It is safe for concurrent use.
type Guard struct {
	now  func() time.Time
	key  []byte // HMAC key for password fingerprints, random per process
	cfg  atomic.Pointer[Settings]
	rate *limiter

	mu        sync.Mutex
	records   map[netip.Addr]*record
	lastSweep time.Time
	// checks holds, per address, the password check under way; the
	// channel is closed when it ends (Checking).
	checks map[netip.Addr]chan struct{}

	fileMu sync.Mutex // serialises hack.log and ip.can writes
}

// record is what is known about the failed logins from one address.
type record struct {
	count, dupes int // attempts, and repeats of the previous one
	first, last  time.Time
	protocol     string
	user         string
	method       string
	// pass fingerprints the last password tried (HMAC-SHA-256 under the
	// guard's key): enough to recognise a repeat, useless for anything
	// else. passLen is logged instead of the password.
	pass    [sha256.Size]byte
	passLen int
	digest  bool
}

func (r *record) attempts() int { return r.count - r.dupes }

// Option changes how New builds a Guard.
type Option func(*Guard)

// WithClock makes the guard read the time from now instead of time.Now
// (tests move time forward with it).
func WithClock(now func() time.Time) Option { return func(g *Guard) { g.now = now } }

// New returns a Guard with settings s.
func New(s Settings, opts ...Option) *Guard {
	g := &Guard{now: time.Now, records: map[netip.Addr]*record{}, checks: map[netip.Addr]chan struct{}{}}
	for _, o := range opts {
		o(g)
	}
	g.key = make([]byte, 32)
	_, _ = rand.Read(g.key)
	g.rate = newLimiter(g.now)
	g.Configure(s)
	return g
}

// Configure swaps in new settings (a configuration reload). The failed-login
// records are kept; the rate-limit counts are kept unless the period or the
// subnet prefixes changed, since their buckets no longer fit.
func (g *Guard) Configure(s Settings) {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	g.cfg.Store(&s)
	g.rate.configure(s.MaxRequests, s.RequestPeriod, s.SubnetPrefix4, s.SubnetPrefix6)
}

func (g *Guard) settings() *Settings { return g.cfg.Load() }

// parseIP turns a textual address into a map key; IPv4-mapped IPv6
// addresses count as the IPv4 address and zones are dropped.
func parseIP(ip string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(strings.TrimSpace(ip))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// Failed records a failed login and acts on the thresholds: a log line
// from the second attempt on, a hack.log entry from HackThreshold on, an
// ip.can entry at FilterThreshold. It returns the address's count of
// attempts (repeats of the same user and password not counted).
func (g *Guard) Failed(a envelope.LoginAttempt) int {
	addr, ok := parseIP(a.IP)
	if !ok {
		return 0
	}
	a.User = truncate(a.User, maxUser)
	s := g.settings()
	fp := g.fingerprint(a.Password)

	g.mu.Lock()
	now := g.now()
	g.sweepLocked(now, s)
	r := g.records[addr]
	if r != nil && g.expiredLocked(r, now, s) {
		r = nil // a day-old attempt starts no series
	}
	if r == nil {
		g.makeRoomLocked()
		r = &record{first: now}
		g.records[addr] = r
	} else if r.user == a.User && hmac.Equal(r.pass[:], fp[:]) {
		r.dupes++
	}
	r.count++
	r.last = now
	r.protocol, r.user, r.method = a.Protocol, a.User, a.Method
	r.pass, r.passLen, r.digest = fp, len(a.Password), a.Digest
	n, span := r.attempts(), now.Sub(r.first)
	g.mu.Unlock()

	if n > 1 {
		s.Logger.Warn(fmt.Sprintf("%s [%s] !%d FAILED LOGIN ATTEMPTS in %s", a.Protocol, a.IP, n, estimate(span)))
	}
	if s.HackThreshold > 0 && n >= s.HackThreshold {
		g.hackLog(s, a, now)
	}
	if s.FilterThreshold > 0 && n >= s.FilterThreshold && !a.Local {
		g.filter(s, a, n, span, now)
	}
	return n
}

// truncate cuts s to at most n bytes, at a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func (g *Guard) fingerprint(password string) [sha256.Size]byte {
	m := hmac.New(sha256.New, g.key)
	m.Write([]byte(password))
	var out [sha256.Size]byte
	copy(out[:], m.Sum(nil))
	return out
}

// Checking marks a password check from ip as under way and returns the
// function that ends it. While one check from an address is under way,
// another from the same address waits here (until ctx ends, which gives
// ctx's error). The caller ends the check only after it has reported the
// outcome (Failed or Succeeded), and asks Banned once it holds the check:
// so each check sees every failure of the ones before it, and connections
// opened ahead of time cannot run more guesses at once than the ban
// threshold allows. An unparsable ip is not held.
func (g *Guard) Checking(ctx context.Context, ip string) (done func(), err error) {
	addr, ok := parseIP(ip)
	if !ok {
		return func() {}, nil
	}
	for {
		g.mu.Lock()
		busy, found := g.checks[addr]
		if !found {
			ch := make(chan struct{})
			g.checks[addr] = ch
			g.mu.Unlock()
			var once sync.Once
			return func() {
				once.Do(func() {
					g.mu.Lock()
					delete(g.checks, addr)
					g.mu.Unlock()
					close(ch)
				})
			}, nil
		}
		g.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return nil, fmt.Errorf("guard: waiting for the previous login check from %s: %w", ip, ctx.Err())
		}
	}
}

// Succeeded forgets the failed logins from ip: call it after a successful
// login by a user who has a password.
func (g *Guard) Succeeded(ip string) {
	addr, ok := parseIP(ip)
	if !ok {
		return
	}
	g.mu.Lock()
	delete(g.records, addr)
	g.mu.Unlock()
}

// Attempts returns the count of failed logins recorded for ip.
func (g *Guard) Attempts(ip string) int {
	addr, ok := parseIP(ip)
	if !ok {
		return 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if r := g.records[addr]; r != nil && !g.expiredLocked(r, g.now(), g.settings()) {
		return r.attempts()
	}
	return 0
}

// Throttle returns how long a new connection from ip waits before its
// greeting: attempts × LoginAttemptThrottle once there is more than one
// attempt, else 0. The caller applies its own ceiling and exemptions.
func (g *Guard) Throttle(ip string) (wait time.Duration, attempts int) {
	n := g.Attempts(ip)
	t := g.settings().Throttle
	if n <= 1 || t <= 0 {
		return 0, n
	}
	return time.Duration(n) * t, n
}

// Banned reports whether ip is temporarily banned: it reached
// TempBanThreshold attempts, or the last login name it tried (up to any
// '@') is in name.can, and the last attempt was less than TempBanDuration
// ago. remaining is the time left; why ("12 login attempts, last: root") is
// for the log. The caller exempts the server's own address and
// ipfilter_exempt.cfg.
func (g *Guard) Banned(ip string) (remaining time.Duration, why string) {
	addr, ok := parseIP(ip)
	if !ok {
		return 0, ""
	}
	s := g.settings()
	if s.TempBanDuration <= 0 {
		return 0, ""
	}
	g.mu.Lock()
	r := g.records[addr]
	var n int
	var user string
	var last time.Time
	if r != nil {
		n, user, last = r.attempts(), r.user, r.last
	}
	now := g.now()
	g.mu.Unlock()
	if r == nil {
		return 0, ""
	}
	left := last.Add(s.TempBanDuration).Sub(now)
	if left <= 0 {
		return 0, ""
	}
	name, _, _ := strings.Cut(user, "@")
	byCount := s.TempBanThreshold > 0 && n >= s.TempBanThreshold
	byName := name != "" && s.NameFilter != nil && s.NameFilter.Match(name)
	if !byCount && !byName {
		return 0, ""
	}
	why = fmt.Sprintf("%d login attempts, last: %s", n, user)
	if byName && !byCount {
		why += " (in name.can)"
	}
	return left, why
}

// Clear forgets the failed logins of ip, or of every address when ip is
// empty (the clear semaphore). It returns how many addresses were
// forgotten, and an error when ip is not an address.
func (g *Guard) Clear(ip string) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if strings.TrimSpace(ip) == "" {
		n := len(g.records)
		clear(g.records)
		return n, nil
	}
	addr, ok := parseIP(ip)
	if !ok {
		return 0, fmt.Errorf("guard: %q is not an IP address", ip)
	}
	if _, found := g.records[addr]; !found {
		return 0, nil
	}
	delete(g.records, addr)
	return 1, nil
}

// Allow counts one command from ip against MaxRequests per RequestPeriod
// and reports whether it is within the limit. Refused commands are not
// counted. The caller exempts ipfilter_exempt.cfg.
func (g *Guard) Allow(ip string) bool { return g.request(ip, "") }

// Protocol returns the rate limit as the server for protocol ("SMTP",
// "POP3") counts it: the same counts, with protocol named in the ip.can
// entries RateFilterThreshold writes.
func (g *Guard) Protocol(protocol string) RateLimit { return RateLimit{g: g, protocol: protocol} }

// RateLimit is one server's view of the guard's request rate limit.
type RateLimit struct {
	g        *Guard
	protocol string
}

// Allow counts one request of ip; false means over the limit.
func (r RateLimit) Allow(ip string) bool { return r.g.request(ip, r.protocol) }

func (g *Guard) request(ip, protocol string) bool {
	v := g.rate.allow(ip)
	if !v.ok {
		g.rateFilter(g.settings(), v, protocol)
	}
	return v.ok
}

// retention is how long a record outlives its last attempt.
func retention(s *Settings) time.Duration { return max(MinRetention, s.TempBanDuration) }

func (g *Guard) expiredLocked(r *record, now time.Time, s *Settings) bool {
	return now.Sub(r.last) >= retention(s)
}

// sweepLocked forgets expired records, at most once a minute.
func (g *Guard) sweepLocked(now time.Time, s *Settings) {
	if now.Sub(g.lastSweep) < sweepEvery {
		return
	}
	g.lastSweep = now
	for a, r := range g.records {
		if g.expiredLocked(r, now, s) {
			delete(g.records, a)
		}
	}
}

// makeRoomLocked forgets the record idle longest when the table is full,
// so a flood of addresses cannot grow it without bound.
func (g *Guard) makeRoomLocked() {
	if len(g.records) < MaxTracked {
		return
	}
	var oldest netip.Addr
	var at time.Time
	for a, r := range g.records {
		if at.IsZero() || r.last.Before(at) {
			oldest, at = a, r.last
		}
	}
	delete(g.records, oldest)
}
