package guard_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/ctrl/pattern"
	"github.com/bbsmail/bbsmail/guard"
)

// MaxRequestsPerPeriod commands pass per RequestRateLimitPeriod; the next
// is refused until old ones leave the window, and refusals do not count.
func TestRateLimitWindow(t *testing.T) {
	t.Parallel()
	c := newClock()
	g := guard.New(guard.Settings{MaxRequests: 3, RequestPeriod: 32 * time.Second}, guard.WithClock(c.now))
	ip := "192.0.2.70"
	for i := range 3 {
		if !g.Allow(ip) {
			t.Fatalf("request %d refused", i+1)
		}
		c.advance(time.Second)
	}
	for range 5 {
		if g.Allow(ip) {
			t.Fatal("request over the limit allowed")
		}
	}
	if !g.Allow("192.0.2.71") {
		t.Fatal("another address is limited too")
	}
	// The first request (at 0 s) leaves the window at 32 s; the others
	// are still in it, so exactly one more request fits.
	c.advance(29 * time.Second)
	if !g.Allow(ip) {
		t.Fatal("no request allowed after the oldest left the window")
	}
	if g.Allow(ip) {
		t.Fatal("two requests allowed where one left the window")
	}
	c.advance(time.Hour)
	for i := range 3 {
		if !g.Allow(ip) {
			t.Fatalf("after a quiet period, request %d refused", i+1)
		}
	}
}

func TestRateLimitOff(t *testing.T) {
	t.Parallel()
	for _, s := range []guard.Settings{
		{MaxRequests: 0, RequestPeriod: time.Hour},
		{MaxRequests: 1, RequestPeriod: 0},
	} {
		g := guard.New(s)
		for range 100 {
			if !g.Allow("192.0.2.72") {
				t.Fatalf("%+v limits requests", s)
			}
		}
	}
}

// With a subnet prefix, the clients of one subnet share a budget: the
// IPv4 default (0) counts each address apart, the IPv6 default (64)
// counts per /64.
func TestRateLimitSubnets(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		p4, p6   int
		a, b     string
		together bool
	}{
		{"IPv4 per address", 0, 64, "192.0.2.1", "192.0.2.2", false},
		{"IPv4 /24", 24, 64, "192.0.2.1", "192.0.2.200", true},
		{"IPv4 /24 other subnet", 24, 64, "192.0.2.1", "192.0.3.1", false},
		{"IPv4 /32 is per address", 32, 64, "192.0.2.1", "192.0.2.2", false},
		{"IPv4-mapped counts as IPv4", 24, 64, "::ffff:192.0.2.1", "192.0.2.9", true},
		{"IPv6 /64", 0, 64, "2001:db8::1", "2001:db8::ffff:2", true},
		{"IPv6 other /64", 0, 64, "2001:db8::1", "2001:db8:0:1::1", false},
		{"IPv6 per address", 0, 0, "2001:db8::1", "2001:db8::2", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := guard.New(guard.Settings{MaxRequests: 2, RequestPeriod: time.Hour, SubnetPrefix4: tc.p4, SubnetPrefix6: tc.p6})
			for i := range 2 {
				if !g.Allow(tc.a) {
					t.Fatalf("request %d refused", i+1)
				}
			}
			if got := !g.Allow(tc.b); got != tc.together {
				t.Fatalf("%s refused = %v after %s used the budget; want %v", tc.b, got, tc.a, tc.together)
			}
		})
	}
}

// A reload keeps the counts unless the buckets change.
func TestRateLimitReload(t *testing.T) {
	t.Parallel()
	s := guard.Settings{MaxRequests: 2, RequestPeriod: time.Hour}
	g := guard.New(s)
	g.Allow("192.0.2.80")
	g.Allow("192.0.2.80")
	g.Configure(s)
	if g.Allow("192.0.2.80") {
		t.Fatal("a reload with the same settings reset the count")
	}
	s.MaxRequests = 3
	g.Configure(s)
	if !g.Allow("192.0.2.80") {
		t.Fatal("a higher limit after reload does not let one more through")
	}
	s.RequestPeriod = time.Minute
	g.Configure(s)
	if !g.Allow("192.0.2.80") {
		t.Fatal("a new period kept the old buckets")
	}
}

// RateLimitFilterThreshold: the third refusal of an address writes it to
// ip.can once, with Synchronet's reason; with a subnet bucket the subnet
// is written only after two of its addresses were refused; silent
// filtering writes ip-silent.can instead; idle clients start over.
func TestRateLimitFilter(t *testing.T) {
	t.Parallel()
	read := func(path string) string {
		b, _ := os.ReadFile(path)
		return string(b)
	}
	t.Run("address", func(t *testing.T) {
		c := newClock()
		dir := t.TempDir()
		ipCan := filepath.Join(dir, "ip.can")
		g := guard.New(guard.Settings{MaxRequests: 1, RequestPeriod: time.Minute, SubnetPrefix6: 64,
			RateFilterThreshold: 3, RateFilterDuration: time.Hour, IPFilter: pattern.NewFile(ipCan)}, guard.WithClock(c.now))
		r := g.Protocol("SMTP")
		r.Allow("192.0.2.9")
		for range 2 {
			r.Allow("192.0.2.9")
		}
		if read(ipCan) != "" {
			t.Fatalf("filtered after two refusals:\n%s", read(ipCan))
		}
		r.Allow("192.0.2.9")
		r.Allow("192.0.2.9")
		got := read(ipCan)
		if strings.Count(got, "192.0.2.9") != 1 || !strings.Contains(got, "r=3 rate-limit violations") || !strings.Contains(got, "p=SMTP") || !strings.Contains(got, "e=") {
			t.Fatalf("ip.can:\n%s", got)
		}
		// An idle client starts over: two more refusals write nothing new
		// for another address that went quiet after two.
		r.Allow("192.0.2.10")
		r.Allow("192.0.2.10")
		r.Allow("192.0.2.10")
		c.advance(2 * time.Minute)
		r.Allow("192.0.2.10")
		r.Allow("192.0.2.10")
		if strings.Contains(read(ipCan), "192.0.2.10") {
			t.Fatalf("refusals before an idle period counted:\n%s", read(ipCan))
		}
	})
	t.Run("subnet", func(t *testing.T) {
		c := newClock()
		dir := t.TempDir()
		ipCan := filepath.Join(dir, "ip.can")
		g := guard.New(guard.Settings{MaxRequests: 1, RequestPeriod: time.Minute, SubnetPrefix4: 24,
			RateFilterThreshold: 2, RateFilterSubnetThreshold: 2, IPFilter: pattern.NewFile(ipCan)}, guard.WithClock(c.now))
		r := g.Protocol("POP3")
		r.Allow("198.51.100.1")
		r.Allow("198.51.100.1")
		r.Allow("198.51.100.1")
		if got := read(ipCan); !strings.Contains(got, "198.51.100.1\t") || strings.Contains(got, "/24") {
			t.Fatalf("one offender: ip.can:\n%s", got)
		}
		r.Allow("198.51.100.2")
		if got := read(ipCan); !strings.Contains(got, "198.51.100.0/24") || !strings.Contains(got, "from 2 IPs") {
			t.Fatalf("two offenders: ip.can:\n%s", got)
		}
		r.Allow("198.51.100.3")
		r.Allow("198.51.100.2")
		if got := read(ipCan); strings.Count(got, "198.51.100.0/24") != 1 {
			t.Fatalf("the subnet written again:\n%s", got)
		}
	})
	t.Run("silent", func(t *testing.T) {
		dir := t.TempDir()
		ipCan, silent := filepath.Join(dir, "ip.can"), filepath.Join(dir, "ip-silent.can")
		g := guard.New(guard.Settings{MaxRequests: 1, RequestPeriod: time.Minute, RateFilterThreshold: 1, RateFilterSilent: true,
			IPFilter: pattern.NewFile(ipCan), IPSilentFilter: pattern.NewFile(silent)}, guard.WithClock(newClock().now))
		g.Allow("203.0.113.5")
		g.Allow("203.0.113.5")
		if read(ipCan) != "" || !strings.Contains(read(silent), "203.0.113.5") {
			t.Fatalf("ip.can:\n%s\nip-silent.can:\n%s", read(ipCan), read(silent))
		}
	})
}
