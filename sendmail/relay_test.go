package sendmail_test

import (
	"crypto/tls"
	"errors"
	"strings"
	"testing"

	"github.com/bbsmail/bbsmail/sendmail"
)

func relayEnv(t *testing.T, p *peer, mech, pass string) *env {
	t.Helper()
	e := newEnv(t)
	e.cfg.RelayTx = true
	e.cfg.RelayServer = "localhost" // resolved by the system, as sysops expect
	e.cfg.DNSServer = "127.0.0.1:1" // MX lookups would fail
	e.cfg.RelayPort = atoi(t, p.port())
	e.cfg.RelayAuth = mech
	e.cfg.RelayUsername = "bbs"
	e.cfg.RelayPassword = pass
	return e
}

// Through a relay, every mechanism authenticates, and recipients at
// different domains share one transaction.
func TestRelayAuthMechanisms(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		mech string
		tls  bool
	}{
		{sendmail.AuthPlain, true},
		{sendmail.AuthPlain, false},
		{sendmail.AuthLogin, false},
		{sendmail.AuthCRAMMD5, false},
	} {
		name := c.mech
		if c.tls {
			name += "+tls"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			o := peerOpts{users: map[string]string{"bbs": "Secret"}}
			if c.tls {
				o.tls = &tls.Config{Certificates: []tls.Certificate{testCert(t)}}
			}
			p := startPeer(t, o)
			e := relayEnv(t, p, c.mech, "Secret")
			a := e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "joe@one.test"}, testMsg)
			b := e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "ann@two.test"}, testMsg)
			e.runOnce(t)
			if !e.q.delivered(a) || !e.q.delivered(b) {
				ent, _ := e.q.get(a)
				t.Fatalf("not delivered: %q", ent.LastError)
			}
			got := p.received()
			if len(got) != 1 || len(got[0].Rcpts) != 2 || got[0].User != "bbs" || got[0].TLS != c.tls {
				t.Fatalf("relay received %+v", got)
			}
		})
	}
}

// A relay refusing the credentials defers the mail like any temporary
// failure: no bounce, not left in transit.
func TestRelayAuthFailureDefers(t *testing.T) {
	t.Parallel()
	p := startPeer(t, peerOpts{users: map[string]string{"bbs": "Secret"}})
	e := relayEnv(t, p, sendmail.AuthLogin, "wrong")
	id := e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "joe@one.test", LocalSender: 1}, testMsg)
	e.runOnce(t)
	ent, ok := e.q.get(id)
	if !ok || ent.InTransit || ent.Attempts != 1 || !strings.Contains(ent.LastError, "535") {
		t.Fatalf("after AUTH failure: %+v present=%v", ent, ok)
	}
	if e.drop.count() != 0 || len(p.received()) != 0 {
		t.Fatal("mail bounced or sent despite the AUTH failure")
	}
}

// Opportunistic STARTTLS: used when offered, and a peer whose handshake
// fails still gets the mail over a fresh plain-text connection.
func TestSTARTTLSAndFallback(t *testing.T) {
	t.Parallel()
	broken := &tls.Config{GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
		return nil, errors.New("no certificate today")
	}}
	for name, c := range map[string]struct {
		cfg     *tls.Config
		wantTLS bool
	}{
		"good":   {&tls.Config{Certificates: []tls.Certificate{testCert(t)}}, true},
		"broken": {broken, false},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := startDNS(t, "mail.zone")
			p := startPeer(t, peerOpts{host: "127.0.0.2", tls: c.cfg})
			e := newEnv(t)
			e.cfg.DNSServer = d.Addr
			e.cfg.MXPort = atoi(t, p.port())
			id := e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "joe@example.test"}, testMsg)
			e.runOnce(t)
			if !e.q.delivered(id) {
				ent, _ := e.q.get(id)
				t.Fatalf("not delivered: %q", ent.LastError)
			}
			if got := p.received(); len(got) != 1 || got[0].TLS != c.wantTLS || string(got[0].Data) != testMsg {
				t.Fatalf("received %+v", got)
			}
		})
	}
}
