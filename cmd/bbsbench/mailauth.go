package main

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/bbsmail/bbsmail/mailauth"
)

// The mail authentication runs (bbsmail only; Postfix runs no milter
// here): inbound with SPF, DKIM and DMARC checked against a DNS server in
// this process, and outbound with DKIM signing by each key type. Every
// other run has the checks off (MailAuthCheck = false) and DKIMSign off.

// authRows are the summary rows of those runs.
type authRows struct {
	inbound          *row
	rsa, rsaFill     *row
	ed25519, edsFill *row
}

func (b *bench) addAuthRows() authRows {
	r := authRows{
		inbound: b.addRow("inbound, reused, SPF+DKIM+DMARC checked"),
		rsa:     b.addRow("outbound, DKIM RSA-2048"),
		rsaFill: b.addRow("  queueing on port 587, signing RSA-2048"),
		ed25519: b.addRow("outbound, DKIM Ed25519"),
		edsFill: b.addRow("  queueing on port 587, signing Ed25519"),
	}
	for _, x := range []*row{r.inbound, r.rsa, r.rsaFill, r.ed25519, r.edsFill} {
		x.pf.note = "n/a"
	}
	return r
}

func (b *bench) authRuns(ctx context.Context, r authRows) {
	if !b.cfg.mailAuth {
		for _, x := range []*row{r.inbound, r.rsa, r.rsaFill, r.ed25519, r.edsFill} {
			x.bbs.note = "not run (-mailauth=false)"
		}
		return
	}
	b.authInbound(ctx, &r.inbound.bbs)
	for _, run := range []struct {
		typ, name     string
		drain, filled *figure
	}{{"rsa", "RSA-2048", &r.rsa.bbs, &r.rsaFill.bbs}, {"ed25519", "Ed25519", &r.ed25519.bbs, &r.edsFill.bbs}} {
		if ctx.Err() != nil {
			return
		}
		n := b.cfg.outbound
		if n == 0 || b.sink == "" {
			run.drain.note, run.filled.note = "skipped", "skipped"
			continue
		}
		b.printf("== bbsmail: outbound, %d messages signed with DKIM %s at queueing, to smtp-sink\n", n, run.name)
		if err := b.bbsDrain(ctx, n, run.drain, run.filled, run.typ); err != nil {
			b.fail(ctx, run.drain, "outbound run", err)
		}
		b.printf("\n")
	}
}

// authInbound sends one RSA-signed message over and over (reused
// connections) to a server that checks SPF, DKIM and DMARC for every one,
// each answer coming from the local DNS server.
func (b *bench) authInbound(ctx context.Context, f *figure) {
	b.printf("== bbsmail: inbound, reused connections, SPF+DKIM+DMARC checked against a local DNS server\n")
	err := b.authInboundRun(ctx, f)
	if err != nil {
		b.fail(ctx, f, "mail authentication run", err)
	}
	b.printf("\n")
}

func (b *bench) authInboundRun(ctx context.Context, f *figure) error {
	key, _, err := mailauth.GenerateKey("rsa", 2048)
	if err != nil {
		return err
	}
	rec, err := mailauth.TXTRecord(key.Public())
	if err != nil {
		return err
	}
	dom := strings.SplitN(extSender, "@", 2)[1]
	srv, addr, err := startZone([]string{
		mailauth.ZoneLine(mailauth.RecordName("bench", dom), rec),
		dom + `. IN TXT "v=spf1 ip4:127.0.0.1 -all"`,
		"_dmarc." + dom + `. IN TXT "v=DMARC1; p=reject"`,
	})
	if err != nil {
		return err
	}
	defer srv.Shutdown()
	msg := fmt.Appendf(nil, "From: Bench <%s>\r\nTo: <%s>\r\nSubject: bbsbench signed\r\nDate: %s\r\nMessage-ID: <signed@bbsbench.invalid>\r\n\r\n%s",
		extSender, localRcpt, time.Now().Format(time.RFC1123Z), messageBody(b.cfg.size))
	sig, err := mailauth.SignWith(mailauth.Key{Domain: dom, Selector: "bench", Signer: key}, msg)
	if err != nil {
		return err
	}
	t, child, err := b.startBBS(ctx, serverOpts{maxClients: b.maxClients(), mailAuth: true, dnsServer: addr})
	if err != nil {
		return err
	}
	defer child.stop(30 * time.Second)
	c := b.cfg
	spec := loadSpec{addr: t.smtpAddr(), clients: c.clients, messages: c.messages, duration: c.duration,
		reuse: true, from: extSender, to: localRcpt, text: append(sig, msg...)}
	accepted := b.loadRun(ctx, spec, f, &figure{})
	stored, err := t.mailboxLen(ctx)
	if err != nil {
		return err
	}
	if stored != accepted {
		return fmt.Errorf("%d messages accepted but %d stored", accepted, stored)
	}
	// A verdict other than pass would mean the figure measured failures.
	first, err := t.cli(ctx, "", "mail", "read", benchUser, "1")
	if err != nil {
		return err
	}
	for _, want := range []string{"spf=pass", "dkim=pass", "dmarc=pass"} {
		if !strings.Contains(first, want) {
			return fmt.Errorf("the stored message lacks %s:\n%s", want, first[:min(len(first), 800)])
		}
	}
	b.printf("   every message judged spf=pass dkim=pass dmarc=pass\n")
	return nil
}

// zone answers from fixed records; anything else is NXDOMAIN.
type zone map[string][]dns.RR

func (z zone) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	for _, q := range r.Question {
		rrs, ok := z[strings.ToLower(q.Name)]
		if !ok {
			m.Rcode = dns.RcodeNameError
		}
		for _, rr := range rrs {
			if rr.Header().Rrtype == q.Qtype {
				m.Answer = append(m.Answer, rr)
			}
		}
	}
	_ = w.WriteMsg(m)
}

// startZone serves records over UDP on a loopback port.
func startZone(records []string) (*dns.Server, string, error) {
	z := zone{}
	for _, line := range records {
		rr, err := dns.NewRR(line)
		if err != nil {
			return nil, "", err
		}
		name := strings.ToLower(rr.Header().Name)
		z[name] = append(z[name], rr)
	}
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	srv := &dns.Server{PacketConn: pc, Handler: z}
	go func() { _ = srv.ActivateAndServe() }()
	return srv, pc.LocalAddr().String(), nil
}
