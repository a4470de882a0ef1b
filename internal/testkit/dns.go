package testkit

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// DNS is an authoritative DNS server on a loopback UDP port for the test
// domains: names without records are NXDOMAIN, names marked with Fail
// answer SERVFAIL (a lookup that fails for now). It stops when the test
// ends.
type DNS struct {
	Addr string // host:port

	mu       sync.Mutex
	zone     map[string][]dns.RR // lower-case owner name → records
	servfail map[string]bool
}

// StartDNS serves records (zone-file lines such as
// `example.test. IN TXT "v=spf1 -all"`).
func StartDNS(t testing.TB, records ...string) *DNS {
	t.Helper()
	d := &DNS{zone: map[string][]dns.RR{}, servfail: map[string]bool{}}
	d.Add(t, records...)
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d.Addr = pc.LocalAddr().String()
	srv := &dns.Server{PacketConn: pc, Handler: d}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return d
}

// Add puts more zone-file lines into the zone.
func (d *DNS) Add(t testing.TB, records ...string) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, line := range records {
		rr, err := dns.NewRR(line)
		if err != nil {
			t.Fatalf("bad record %q: %v", line, err)
		}
		name := strings.ToLower(rr.Header().Name)
		d.zone[name] = append(d.zone[name], rr)
	}
}

// Fail makes questions about name answer SERVFAIL.
func (d *DNS) Fail(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.servfail[strings.ToLower(dns.Fqdn(name))] = true
}

// ServeDNS answers from the zone.
func (d *DNS) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	d.mu.Lock()
	for _, q := range r.Question {
		name := strings.ToLower(q.Name)
		if d.servfail[name] {
			m.Rcode = dns.RcodeServerFailure
			continue
		}
		rrs, ok := d.zone[name]
		if !ok {
			m.Rcode = dns.RcodeNameError
			continue
		}
		for _, rr := range rrs {
			if rr.Header().Rrtype == q.Qtype {
				m.Answer = append(m.Answer, rr)
			}
		}
	}
	d.mu.Unlock()
	_ = w.WriteMsg(m)
}

// Resolver is a Go resolver that asks only this server, as the mail
// server's resolver asks DNSServer.
func (d *DNS) Resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dl net.Dialer
		return dl.DialContext(ctx, "udp", d.Addr)
	}}
}
