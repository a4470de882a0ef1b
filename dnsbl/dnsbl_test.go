package dnsbl_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/bbsmail/bbsmail/dnsbl"
)

// zoneData is what the test name server knows: A and TXT records by name.
type zoneData struct {
	a   map[string]string
	txt map[string][]string
	// servfail names get SERVFAIL.
	servfail map[string]bool
}

// startDNS runs a UDP name server on 127.0.0.1 answering from z, and
// returns its address and a function reporting the names asked so far.
func startDNS(t *testing.T, z zoneData) (string, func() []string) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var asked []string
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		q := req.Question[0]
		mu.Lock()
		asked = append(asked, dns.TypeToString[q.Qtype]+" "+q.Name)
		mu.Unlock()
		a, hasA := z.a[q.Name]
		txt, hasTXT := z.txt[q.Name]
		switch {
		case z.servfail[q.Name]:
			m.Rcode = dns.RcodeServerFailure
		case !hasA && !hasTXT:
			m.Rcode = dns.RcodeNameError
		case q.Qtype == dns.TypeA && hasA:
			m.Answer = append(m.Answer, &dns.A{
				Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
				A:   net.ParseIP(a),
			})
		case q.Qtype == dns.TypeTXT && hasTXT:
			m.Answer = append(m.Answer, &dns.TXT{
				Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60},
				Txt: txt,
			})
		}
		_ = w.WriteMsg(m)
	})
	ready := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: handler, NotifyStartedFunc: func() { close(ready) }}
	go func() { _ = srv.ActivateAndServe() }()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("test name server did not start")
	}
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String(), func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), asked...)
	}
}

const v6Name = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."

var testZones = zoneData{
	a: map[string]string{
		"2.0.0.127.bl.test.":      "127.0.0.2",
		"2.0.0.127.second.test.":  "127.0.0.4",
		"9.0.0.127.second.test.":  "127.0.0.9",
		v6Name + "bl.test.":       "127.0.0.3",
		"7.0.0.127.error.test.":   "127.255.255.254",
		"7.0.0.127.second.test.":  "127.0.0.7",
		"8.0.0.127.odd.test.":     "10.0.0.1",
		"3.2.1.10.bl.test.":       "127.0.0.5",
		"5.0.0.127.failing.test.": "127.0.0.2",
		"5.0.0.127.second.test.":  "127.0.0.10",
		"4.0.0.127.bl.test.":      "127.0.0.2",
		"4.0.0.127.second.test.":  "127.0.0.2",
	},
	txt: map[string][]string{
		"2.0.0.127.bl.test.": {"Listed: see ", "https://bl.test/2"},
		v6Name + "bl.test.":  {"IPv6 spam source"},
	},
	servfail: map[string]bool{"5.0.0.127.failing.test.": true},
}

func TestCheck(t *testing.T) {
	t.Parallel()
	addr, _ := startDNS(t, testZones)
	r := dnsbl.New(addr, false, 5*time.Second)
	bl := dnsbl.List{Zone: "bl.test", Line: "bl.test  Test list"}
	second := dnsbl.List{Zone: "second.test.", Line: "second.test"}
	tests := []struct {
		name    string
		ip      string
		lists   []dnsbl.List
		want    dnsbl.Result
		wantErr error // errors.Is target; nil means no error
	}{
		{"listed IPv4 with reason", "127.0.0.2", []dnsbl.List{bl},
			dnsbl.Result{Listed: true, List: bl, Answer: "127.0.0.2", Reason: "Listed: see https://bl.test/2"}, nil},
		{"listed IPv6", "2001:db8::1", []dnsbl.List{bl},
			dnsbl.Result{Listed: true, List: bl, Answer: "127.0.0.3", Reason: "IPv6 spam source"}, nil},
		{"IPv4-mapped checks the IPv4 name", "::ffff:10.1.2.3", []dnsbl.List{bl},
			dnsbl.Result{Listed: true, List: bl, Answer: "127.0.0.5"}, nil},
		{"NXDOMAIN is not listed", "192.0.2.1", []dnsbl.List{bl, second}, dnsbl.Result{}, nil},
		{"first hit in list order wins", "127.0.0.2", []dnsbl.List{second, bl},
			dnsbl.Result{Listed: true, List: second, Answer: "127.0.0.4"}, nil},
		{"later list hits when the first has nothing", "127.0.0.9", []dnsbl.List{bl, second},
			dnsbl.Result{Listed: true, List: second, Answer: "127.0.0.9"}, nil},
		{"127.255.255.x error code is not a listing", "127.0.0.7", []dnsbl.List{{Zone: "error.test", Line: "error.test"}},
			dnsbl.Result{}, dnsbl.ErrBadAnswer},
		{"error code skipped, next list still asked", "127.0.0.7", []dnsbl.List{{Zone: "error.test", Line: "error.test"}, second},
			dnsbl.Result{Listed: true, List: second, Answer: "127.0.0.7"}, dnsbl.ErrBadAnswer},
		{"answer outside 127.0.0.x is not a listing", "127.0.0.8", []dnsbl.List{{Zone: "odd.test", Line: "odd.test"}},
			dnsbl.Result{}, dnsbl.ErrBadAnswer},
		{"no lists", "127.0.0.2", nil, dnsbl.Result{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Check(context.Background(), tc.ip, tc.lists)
			if got != tc.want {
				t.Errorf("Check(%s) = %+v, want %+v", tc.ip, got, tc.want)
			}
			if tc.wantErr == nil && err != nil {
				t.Errorf("unexpected error: %v", err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v, want %v", err, tc.wantErr)
			}
		})
	}
}

// A list whose server fails is reported, and the lists after it are still
// asked, so one broken list doesn't switch DNSBL checking off.
func TestCheckServfailGoesOn(t *testing.T) {
	t.Parallel()
	addr, _ := startDNS(t, testZones)
	r := dnsbl.New(addr, false, 5*time.Second)
	second := dnsbl.List{Zone: "second.test", Line: "second.test"}
	got, err := r.Check(context.Background(), "127.0.0.5",
		[]dnsbl.List{{Zone: "failing.test", Line: "failing.test"}, second})
	if err == nil || !strings.Contains(err.Error(), "failing.test") {
		t.Errorf("error = %v, want one naming failing.test", err)
	}
	want := dnsbl.Result{Listed: true, List: second, Answer: "127.0.0.10"}
	if got != want {
		t.Errorf("Check = %+v, want %+v", got, want)
	}
}

// The first listing stops the search: later lists are never asked.
func TestCheckStopsAtFirstHit(t *testing.T) {
	t.Parallel()
	addr, asked := startDNS(t, testZones)
	r := dnsbl.New(addr, false, 5*time.Second)
	lists := []dnsbl.List{{Zone: "bl.test"}, {Zone: "second.test"}, {Zone: "never-asked.test"}}
	got, err := r.Check(context.Background(), "127.0.0.4", lists)
	if err != nil || !got.Listed || got.List.Zone != "bl.test" {
		t.Fatalf("Check = %+v, %v", got, err)
	}
	for _, q := range asked() {
		if strings.Contains(q, "second.test") || strings.Contains(q, "never-asked") {
			t.Errorf("asked %s after the first hit", q)
		}
	}
}

func TestCheckBadAddress(t *testing.T) {
	t.Parallel()
	r := dnsbl.New("127.0.0.1:1", false, time.Second)
	if _, err := r.Check(context.Background(), "not-an-ip", []dnsbl.List{{Zone: "bl.test"}}); err == nil {
		t.Error("no error for a bad address")
	}
}

func TestReverseName(t *testing.T) {
	t.Parallel()
	tests := []struct{ ip, want string }{
		{"127.0.0.2", "2.0.0.127"},
		{"192.0.2.99", "99.2.0.192"},
		{"::ffff:10.1.2.3", "3.2.1.10"},
		{"[2001:db8::1]", strings.TrimSuffix(v6Name, ".")},
		{"2001:DB8::1", strings.TrimSuffix(v6Name, ".")},
	}
	for _, tc := range tests {
		got, err := dnsbl.ReverseName(tc.ip)
		if err != nil || got != tc.want {
			t.Errorf("ReverseName(%q) = %q, %v; want %q", tc.ip, got, err, tc.want)
		}
	}
}

func TestNewServer(t *testing.T) {
	t.Parallel()
	if got := dnsbl.New("192.0.2.53", false, 0).Server(); got != "192.0.2.53:53" {
		t.Errorf("host only: %q", got)
	}
	if got := dnsbl.New("[2001:db8::53]:5353", true, 0).Server(); got != "[2001:db8::53]:5353" {
		t.Errorf("host:port: %q", got)
	}
}

func FuzzReverseName(f *testing.F) {
	f.Add("127.0.0.2")
	f.Fuzz(func(t *testing.T, ip string) {
		name, err := dnsbl.ReverseName(ip)
		if err != nil {
			return
		}
		if n := strings.Count(name, ".") + 1; n != 4 && n != 32 {
			t.Errorf("ReverseName(%q) = %q: %d labels", ip, name, n)
		}
		if _, ok := dns.IsDomainName(name + ".bl.test."); !ok {
			t.Errorf("ReverseName(%q) = %q: not a domain name", ip, name)
		}
	})
}

type lookupLog struct {
	mu  sync.Mutex
	got []string
}

func (l *lookupLog) Lookup(zone, result string, took time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if took < 0 {
		result += " negative time"
	}
	l.got = append(l.got, zone+" "+result)
}

// The Observer hears of each list asked, in order, with its result; the
// zone is the list's without its trailing dot.
func TestCheckObserver(t *testing.T) {
	t.Parallel()
	addr, _ := startDNS(t, testZones)
	r := dnsbl.New(addr, false, 5*time.Second)
	var log lookupLog
	r.Observer = &log
	lists := []dnsbl.List{{Zone: "failing.test"}, {Zone: "bl.test."}, {Zone: "second.test"}, {Zone: "never-asked.test"}}
	if _, err := r.Check(context.Background(), "127.0.0.5", lists); err == nil {
		t.Fatal("the failing list was not reported")
	}
	want := []string{"failing.test error", "bl.test not_listed", "second.test listed"}
	if strings.Join(log.got, ", ") != strings.Join(want, ", ") {
		t.Errorf("observed %q, want %q", log.got, want)
	}
}
