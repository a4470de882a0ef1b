package main

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/bbsmail/bbsmail/ctrl"
)

// The wiring asks the zones of dns_blacklist.cfg through DNSServer and
// quotes the whole configuration line; an empty list turns DNSBL off.
func TestDNSBLWiring(t *testing.T) {
	addr := startDNS(t, map[string]string{"2.0.0.127.bl.test.": "127.0.0.2"})

	_, cfg := initConfig(t)
	cfg.DNSBL = nil
	if newDNSBLChecker(cfg) != nil {
		t.Fatal("DNSBL on without any zone")
	}
	cfg.Mail.DNSServer = addr
	cfg.DNSBL = []ctrl.DNSBL{{Zone: "bl.test", Line: "bl.test   (test list)"}}
	c := newDNSBLChecker(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	listed, list, answer, err := c.Check(ctx, "127.0.0.2")
	if err != nil || !listed || list != "bl.test   (test list)" || answer != "127.0.0.2" {
		t.Fatalf("listed IP: %v %q %q %v", listed, list, answer, err)
	}
	if listed, _, _, err := c.Check(ctx, "127.0.0.3"); err != nil || listed {
		t.Fatalf("unlisted IP: %v %v", listed, err)
	}
}

// startDNS serves A records (name → address) on a loopback UDP port with miekg/dns and answers NXDOMAIN for anything else.
func startDNS(t *testing.T, records map[string]string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		q := r.Question[0]
		if a, ok := records[q.Name]; ok && q.Qtype == dns.TypeA {
			rr, _ := dns.NewRR(q.Name + " 60 IN A " + a)
			m.Answer = append(m.Answer, rr)
		} else if !ok {
			m.Rcode = dns.RcodeNameError
		}
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}
