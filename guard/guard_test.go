package guard_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bbsmail/bbsmail/ctrl/pattern"
	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/guard"
)

// clock is a settable time source for the guard.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.Local)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func attempt(ip, user, pass string) envelope.LoginAttempt {
	return envelope.LoginAttempt{Protocol: "POP3", IP: ip, Port: 40000, User: user, Method: "USER/PASS", Password: pass}
}

// A repeat of the same user and password is not counted again, but any
// change of either is; other addresses are counted apart.
func TestFailedCountsWithoutRepeats(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		tries [][2]string // user, password
		want  int
	}{
		{"one", [][2]string{{"joe", "a"}}, 1},
		{"distinct passwords", [][2]string{{"joe", "a"}, {"joe", "b"}, {"joe", "c"}}, 3},
		{"same twice", [][2]string{{"joe", "a"}, {"joe", "a"}}, 1},
		{"same user other password", [][2]string{{"joe", "a"}, {"joe", "a"}, {"joe", "b"}}, 2},
		{"same password other user", [][2]string{{"joe", "a"}, {"ann", "a"}}, 2},
		{"repeat after a change counts", [][2]string{{"joe", "a"}, {"joe", "b"}, {"joe", "a"}}, 3},
		{"empty passwords repeat", [][2]string{{"", ""}, {"", ""}, {"", ""}}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := guard.New(guard.Settings{})
			got := 0
			for _, tr := range tc.tries {
				got = g.Failed(attempt("192.0.2.7", tr[0], tr[1]))
			}
			if got != tc.want || g.Attempts("192.0.2.7") != tc.want {
				t.Errorf("count = %d, Attempts = %d; want %d", got, g.Attempts("192.0.2.7"), tc.want)
			}
			if n := g.Attempts("192.0.2.8"); n != 0 {
				t.Errorf("another address has %d attempts", n)
			}
		})
	}
}

// An IPv4 client seen through an IPv6 socket is the same client.
func TestFailedMappedAddressesAreOneClient(t *testing.T) {
	t.Parallel()
	g := guard.New(guard.Settings{})
	g.Failed(attempt("::ffff:192.0.2.9", "joe", "a"))
	g.Failed(attempt("192.0.2.9", "joe", "b"))
	if n := g.Attempts("192.0.2.9"); n != 2 {
		t.Fatalf("Attempts = %d, want 2", n)
	}
}

func TestThrottle(t *testing.T) {
	t.Parallel()
	g := guard.New(guard.Settings{Throttle: time.Second})
	ip := "198.51.100.4"
	for i, want := range []time.Duration{0, 2 * time.Second, 3 * time.Second} {
		g.Failed(attempt(ip, "joe", fmt.Sprint(i)))
		if got, n := g.Throttle(ip); got != want || n != i+1 {
			t.Errorf("after %d attempts: Throttle = %v, %d; want %v", i+1, got, n, want)
		}
	}
	g.Configure(guard.Settings{})
	if got, _ := g.Throttle(ip); got != 0 {
		t.Errorf("LoginAttemptThrottle = 0 still throttles %v", got)
	}
}

// A ban starts at the threshold and ends TempBanDuration after the last
// attempt; a duration of 0 or a threshold of 0 bans nobody by count.
func TestTempBanByCount(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                string
		threshold, attempts int
		duration, after     time.Duration
		banned              bool
	}{
		{"below threshold", 3, 2, 10 * time.Minute, 0, false},
		{"at threshold", 3, 3, 10 * time.Minute, 0, true},
		{"still within the duration", 3, 4, 10 * time.Minute, 9 * time.Minute, true},
		{"duration over", 3, 4, 10 * time.Minute, 10 * time.Minute, false},
		{"threshold off", 0, 50, 10 * time.Minute, 0, false},
		{"duration off", 3, 5, 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClock()
			g := guard.New(guard.Settings{TempBanThreshold: tc.threshold, TempBanDuration: tc.duration}, guard.WithClock(c.now))
			for i := range tc.attempts {
				g.Failed(attempt("203.0.113.5", "joe", fmt.Sprint(i)))
			}
			c.advance(tc.after)
			left, why := g.Banned("203.0.113.5")
			if (left > 0) != tc.banned {
				t.Fatalf("Banned = %v, %q; want banned=%v", left, why, tc.banned)
			}
			if tc.banned {
				if want := tc.duration - tc.after; left != want {
					t.Errorf("remaining %v, want %v", left, want)
				}
				if want := fmt.Sprintf("%d login attempts, last: joe", tc.attempts); why != want {
					t.Errorf("why = %q, want %q", why, want)
				}
			}
			if left, _ := g.Banned("203.0.113.6"); left != 0 {
				t.Error("a clean address is banned")
			}
		})
	}
}

// A login name in name.can bans at the first attempt; the part after '@'
// does not count, and only the last name tried matters.
func TestTempBanByName(t *testing.T) {
	t.Parallel()
	names := pattern.MustParse("root\nadmin~\n")
	for _, tc := range []struct {
		users  []string
		banned bool
	}{
		{[]string{"root"}, true},
		{[]string{"ROOT@bbs.example"}, true},
		{[]string{"webadmin"}, true},
		{[]string{"joe"}, false},
		{[]string{"root", "joe"}, false},
		{[]string{"joe", "root"}, true},
		{[]string{"rooter"}, false},
	} {
		t.Run(strings.Join(tc.users, ","), func(t *testing.T) {
			t.Parallel()
			g := guard.New(guard.Settings{TempBanThreshold: 20, TempBanDuration: time.Minute, NameFilter: names})
			for _, u := range tc.users {
				g.Failed(attempt("192.0.2.30", u, "pw-"+u))
			}
			left, why := g.Banned("192.0.2.30")
			if (left > 0) != tc.banned {
				t.Fatalf("Banned = %v, %q; want banned=%v", left, why, tc.banned)
			}
			if tc.banned && !strings.Contains(why, "name.can") {
				t.Errorf("why = %q does not name name.can", why)
			}
		})
	}
}

// A successful login and the clear semaphore lift a ban.
func TestSucceededAndClear(t *testing.T) {
	t.Parallel()
	g := guard.New(guard.Settings{TempBanThreshold: 1, TempBanDuration: time.Hour})
	for _, ip := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3", "2001:db8::1"} {
		g.Failed(attempt(ip, "joe", "x"))
	}
	g.Succeeded("192.0.2.1")
	if left, _ := g.Banned("192.0.2.1"); left != 0 {
		t.Error("still banned after a successful login")
	}
	if n, err := g.Clear("192.0.2.2"); n != 1 || err != nil {
		t.Errorf("Clear(one) = %d, %v", n, err)
	}
	if left, _ := g.Banned("192.0.2.2"); left != 0 {
		t.Error("still banned after Clear")
	}
	if left, _ := g.Banned("192.0.2.3"); left == 0 {
		t.Error("Clear of another address lifted this ban")
	}
	if _, err := g.Clear("not-an-ip"); err == nil {
		t.Error("Clear accepted a non-address")
	}
	if n, err := g.Clear(" "); n != 2 || err != nil {
		t.Errorf("Clear(all) = %d, %v; want 2", n, err)
	}
	if left, _ := g.Banned("2001:db8::1"); left != 0 {
		t.Error("still banned after clearing everything")
	}
}

// Records are forgotten a day after the last attempt, so the throttle
// does not punish an address for ever.
func TestRecordsAgeOut(t *testing.T) {
	t.Parallel()
	c := newClock()
	g := guard.New(guard.Settings{Throttle: time.Second, TempBanDuration: time.Minute}, guard.WithClock(c.now))
	g.Failed(attempt("192.0.2.40", "joe", "a"))
	g.Failed(attempt("192.0.2.40", "joe", "b"))
	c.advance(guard.MinRetention - time.Second)
	if n := g.Attempts("192.0.2.40"); n != 2 {
		t.Fatalf("Attempts before retention = %d", n)
	}
	c.advance(time.Second)
	if n := g.Attempts("192.0.2.40"); n != 0 {
		t.Fatalf("Attempts after retention = %d, want 0", n)
	}
	if n := g.Failed(attempt("192.0.2.40", "joe", "c")); n != 1 {
		t.Fatalf("a fresh attempt after retention counts %d, want 1", n)
	}

	// Also between two sweeps (which run at most once a minute).
	c.advance(guard.MinRetention - 10*time.Second)
	g.Failed(attempt("192.0.2.41", "ann", "a")) // sweeps; .40 not yet expired
	c.advance(20 * time.Second)
	if n := g.Failed(attempt("192.0.2.40", "joe", "d")); n != 1 {
		t.Fatalf("an attempt a day after the last counts %d, want 1", n)
	}
}

// A login name of any length is kept (and logged) to 128 bytes at most.
func TestLongUserNames(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hack.log")
	g := guard.New(guard.Settings{HackThreshold: 1, HackLog: path})
	g.Failed(attempt("192.0.2.42", strings.Repeat("é", 5000), "x"))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	user := regexp.MustCompile(`for user '([^']*)'`).FindSubmatch(b)
	if user == nil || len(user[1]) > 128 || !utf8.Valid(user[1]) || len(user[1]) < 120 {
		t.Fatalf("hack.log user %q", user)
	}
}

// hack.log gets one entry per failure from the threshold on, in
// Synchronet's layout, and never the password.
func TestHackLog(t *testing.T) {
	t.Parallel()
	c := newClock()
	path := filepath.Join(t.TempDir(), "hack.log")
	g := guard.New(guard.Settings{HackThreshold: 2, HackLog: path}, guard.WithClock(c.now))
	const secret = "Sw0rdfish-Secret"
	g.Failed(attempt("192.0.2.50", "joe", secret+"1"))
	if _, err := os.Stat(path); err == nil {
		t.Fatal("hack.log written below the threshold")
	}
	a := attempt("192.0.2.50", "joe", secret)
	a.Host = "dialup.example"
	g.Failed(a)
	d := envelope.LoginAttempt{Protocol: "SMTP", IP: "192.0.2.50", Port: 41000, User: "ann", Method: "CRAM-MD5",
		Password: "ann 0123456789abcdef0123456789abcdef", Digest: true}
	g.Failed(d)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	date := c.now().Format("Mon Jan 02 2006 15:04:05")
	want := "SUSPECTED POP3 LOGIN HACK ATTEMPT for user 'joe' on " + date + "\r\n" +
		"Using port 40000 at dialup.example [192.0.2.50]\r\n" +
		"Details: USER/PASS password of 16 characters\r\n\r\n" +
		"SUSPECTED SMTP LOGIN HACK ATTEMPT for user 'ann' on " + date + "\r\n" +
		"Using port 41000 at <no name> [192.0.2.50]\r\n" +
		"Details: CRAM-MD5 digest response (password not sent)\r\n\r\n"
	if got != want {
		t.Errorf("hack.log:\n%q\nwant\n%q", got, want)
	}
	if strings.Contains(got, "Sw0rdfish") || strings.Contains(got, "0123456789") {
		t.Error("hack.log holds a password or digest")
	}
}

// At the filter threshold the address goes into ip.can once, with
// Synchronet's metadata, unless it is exempt or already listed; the
// server's own address is never filtered.
func TestFilterAppendsToIPCan(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		existing string
		exempt   string
		local    bool
		duration time.Duration
		want     string // regexp for the whole file; "" = unchanged
	}{
		{name: "permanent",
			want: `^192\.0\.2\.60\tt=20260301T120[0-9]{3}[-+][0-9]{4}\tp=POP3\tr=3 FAILED LOGIN ATTEMPTS in 2m\tu=joe\th=bad\.example\n$`},
		{name: "with expiry", duration: time.Hour,
			want: `^192\.0\.2\.60\tt=20260301T120[0-9]{3}[-+][0-9]{4}\tp=POP3\tr=3 FAILED LOGIN ATTEMPTS in 2m\te=20260301T130[0-9]{3}[-+][0-9]{4}\tu=joe\th=bad\.example\n$`},
		{name: "exempt by address", exempt: "192.0.2.0/24\n"},
		{name: "exempt by host", exempt: "*.example\n"},
		{name: "already listed", existing: "192.0.2.0/24\n"},
		{name: "own address", local: true},
		{name: "expired entry does not count", existing: "192.0.2.60\te=20200101T000000+0000\n",
			want: `^192\.0\.2\.60\te=20200101T000000\+0000\n192\.0\.2\.60\tt=[^\n]*\tr=3 FAILED LOGIN ATTEMPTS in 2m\t[^\n]*\n$`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "ip.can")
			if tc.existing != "" {
				if err := os.WriteFile(path, []byte(tc.existing), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			c := newClock()
			s := guard.Settings{FilterThreshold: 3, FilterDuration: tc.duration, IPFilter: pattern.NewFile(path)}
			if tc.exempt != "" {
				s.IPFilterExempt = pattern.MustParse(tc.exempt)
			}
			g := guard.New(s, guard.WithClock(c.now))
			for i := range 4 {
				a := attempt("192.0.2.60", "joe", fmt.Sprint(i))
				a.Host, a.Local = "bad.example", tc.local
				g.Failed(a)
				c.advance(time.Minute)
			}
			b, _ := os.ReadFile(path)
			if tc.want == "" {
				if string(b) != tc.existing {
					t.Fatalf("ip.can changed:\n%q", b)
				}
				return
			}
			if !regexp.MustCompile(tc.want).Match(b) {
				t.Fatalf("ip.can:\n%q\nwant %s", b, tc.want)
			}
			if _, ok := pattern.NewFile(path).Lookup(c.now(), "192.0.2.60"); !ok {
				t.Error("the new entry does not match the address")
			}
		})
	}
}

// Memory stays bounded: past MaxTracked addresses the oldest is dropped.
func TestTableIsCapped(t *testing.T) {
	t.Parallel()
	c := newClock()
	g := guard.New(guard.Settings{}, guard.WithClock(c.now))
	first := "10.0.0.0"
	g.Failed(attempt(first, "x", "y"))
	for i := 1; i <= guard.MaxTracked; i++ {
		c.advance(time.Millisecond)
		g.Failed(attempt(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), "x", "y"))
	}
	if g.Attempts(first) != 0 {
		t.Error("the oldest address is still tracked past MaxTracked")
	}
	if g.Attempts("10.1.0.0") != 1 {
		t.Error("the newest address is not tracked")
	}
}

// The guard is shared by every session of a process.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	g := guard.New(guard.Settings{TempBanThreshold: 1000, TempBanDuration: time.Minute, MaxRequests: 1 << 20, RequestPeriod: time.Hour})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 200 {
				ip := fmt.Sprintf("192.0.2.%d", i%4)
				g.Failed(attempt(ip, "u", fmt.Sprint(w, i)))
				g.Banned(ip)
				g.Throttle(ip)
				g.Allow(ip)
				if i%50 == 0 {
					_, _ = g.Clear("")
				}
			}
		})
	}
	wg.Wait()
}

// A configuration reload keeps the counts and applies the new thresholds.
func TestConfigureKeepsCounts(t *testing.T) {
	t.Parallel()
	g := guard.New(guard.Settings{TempBanThreshold: 5, TempBanDuration: time.Hour})
	g.Failed(attempt("192.0.2.90", "joe", "a"))
	g.Failed(attempt("192.0.2.90", "joe", "b"))
	if left, _ := g.Banned("192.0.2.90"); left != 0 {
		t.Fatal("banned below the threshold")
	}
	g.Configure(guard.Settings{TempBanThreshold: 2, TempBanDuration: time.Hour})
	if n := g.Attempts("192.0.2.90"); n != 2 {
		t.Fatalf("Attempts after reload = %d, want 2", n)
	}
	if left, _ := g.Banned("192.0.2.90"); left == 0 {
		t.Fatal("the lower threshold of the reload does not apply")
	}
}

// One password check per address at a time: a second check from the same
// address waits for the first to end (or for its context), another
// address does not wait, and ending a check twice is harmless.
func TestCheckingOnePerAddress(t *testing.T) {
	t.Parallel()
	g := guard.New(guard.Settings{})
	ctx := context.Background()
	done, err := g.Checking(ctx, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	other, err := g.Checking(ctx, "::ffff:192.0.2.2")
	if err != nil {
		t.Fatalf("another address waited: %v", err)
	}
	other()
	short, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := g.Checking(short, "::ffff:192.0.2.1"); !errors.Is(err, context.Canceled) {
		t.Fatalf("second check from a busy address with its context done: %v, want context.Canceled", err)
	}
	got := make(chan error, 1)
	go func() {
		d, err := g.Checking(ctx, "192.0.2.1")
		if err == nil {
			d()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("second check from a busy address did not wait (err %v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	done()
	done()
	if err := <-got; err != nil {
		t.Fatalf("second check after the first ended: %v", err)
	}
}

// A login name carrying terminal controls (C0, DEL and the one-byte C1
// CSI) reaches hack.log as visible text, never as a control a sysop's
// terminal would act on.
func TestHackLogNoTerminalControls(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hack.log")
	g := guard.New(guard.Settings{HackThreshold: 1, HackLog: path})
	g.Failed(attempt("192.0.2.43", "evil\x1b[2J\u009b31m\x07name", "x"))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range string(b) {
		if (r < 0x20 && r != '\n' && r != '\r' && r != '\t') || (r >= 0x7f && r <= 0x9f) {
			t.Fatalf("hack.log holds control %U:\n%q", r, b)
		}
	}
}
