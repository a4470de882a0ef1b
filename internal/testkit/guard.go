package testkit

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
)

// Guard stands in for the process-wide failed-login tracker and rate
// limiter as smtpd and pop3d see it (their LoginGuard and RateLimiter),
// recording what a server asked and told it.
type Guard struct {
	Ban     bool          // every address asked about is banned, for 9 minutes: "20 login attempts, last: root"; SetBan changes it later
	Wait    time.Duration // throttle every address this long, for its 3 failed logins
	Allowed int           // requests allowed before refusals; <0 = all

	mu  sync.Mutex
	rec GuardRecord
}

// GuardRecord is what a Guard was asked and told, in order.
type GuardRecord struct {
	Asked     []string // Banned and Throttle queries: "ban 1.2.3.4", "throttle 1.2.3.4"
	Requests  []string // Allow calls, by address
	Failed    []envelope.LoginAttempt
	Succeeded []string // addresses
	// Events is the order of password-check holds and reports:
	// "begin 1.2.3.4" (Checking), "failed ...", "succeeded ...", "end ...".
	Events []string
}

// SetBan bans every address from now on (or no longer).
func (g *Guard) SetBan(ban bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.Ban = ban
}

// Record returns a copy of what the guard has seen so far.
func (g *Guard) Record() GuardRecord {
	g.mu.Lock()
	defer g.mu.Unlock()
	return GuardRecord{
		Asked: slices.Clone(g.rec.Asked), Requests: slices.Clone(g.rec.Requests),
		Failed: slices.Clone(g.rec.Failed), Succeeded: slices.Clone(g.rec.Succeeded),
		Events: slices.Clone(g.rec.Events),
	}
}

func (g *Guard) Banned(ip string) (time.Duration, string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.rec.Asked = append(g.rec.Asked, "ban "+ip)
	if g.Ban {
		return 9 * time.Minute, "20 login attempts, last: root"
	}
	return 0, ""
}

func (g *Guard) Throttle(ip string) (time.Duration, int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.rec.Asked = append(g.rec.Asked, "throttle "+ip)
	return g.Wait, 3
}

func (g *Guard) Failed(a envelope.LoginAttempt) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.rec.Failed = append(g.rec.Failed, a)
	g.rec.Events = append(g.rec.Events, "failed "+a.IP)
	return len(g.rec.Failed)
}

func (g *Guard) Succeeded(ip string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.rec.Succeeded = append(g.rec.Succeeded, ip)
	g.rec.Events = append(g.rec.Events, "succeeded "+ip)
}

func (g *Guard) Checking(_ context.Context, ip string) (func(), error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.rec.Events = append(g.rec.Events, "begin "+ip)
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.rec.Events = append(g.rec.Events, "end "+ip)
	}, nil
}

func (g *Guard) Allow(ip string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.rec.Requests = append(g.rec.Requests, ip)
	return g.Allowed < 0 || len(g.rec.Requests) <= g.Allowed
}
