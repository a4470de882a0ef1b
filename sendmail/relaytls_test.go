package sendmail_test

import (
	"crypto/tls"
	"encoding/base64"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/bbsmail/bbsmail/internal/testkit"
	"github.com/bbsmail/bbsmail/sendmail"
)

// remoteRelay makes the loopback test relay count as a relay elsewhere on
// the network, where the password must not travel in clear.
func remoteRelay(net.Addr) bool { return false }

// A relay elsewhere that offers no STARTTLS never sees the password: the
// mail waits with an error the sysop can read in `queue list`. With TLS
// the same relay gets it and the mail goes.
func TestRelayPasswordNeedsTLS(t *testing.T) {
	t.Parallel()
	plain := startPeer(t, peerOpts{users: map[string]string{"bbs": "Secret"}})
	e := relayEnv(t, plain, sendmail.AuthPlain, "Secret")
	e.cfg.ClearRelayAuth = remoteRelay
	id := e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "joe@one.test", LocalSender: 1}, testMsg)
	e.runOnce(t)
	ent, ok := e.q.get(id)
	if !ok || ent.InTransit || !strings.Contains(ent.LastError, "not sending the relay password in clear") {
		t.Fatalf("relay without TLS: %+v present=%v", ent, ok)
	}
	if len(plain.received()) != 0 || e.drop.count() != 0 {
		t.Fatal("mail went out, or bounced, without TLS to the relay")
	}

	secure := startPeer(t, peerOpts{users: map[string]string{"bbs": "Secret"},
		tls: &tls.Config{Certificates: []tls.Certificate{testCert(t)}}})
	e = relayEnv(t, secure, sendmail.AuthPlain, "Secret")
	e.cfg.ClearRelayAuth = remoteRelay
	id = e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "joe@one.test"}, testMsg)
	e.runOnce(t)
	if got := secure.received(); !e.q.delivered(id) || len(got) != 1 || !got[0].TLS {
		t.Fatalf("relay with TLS: delivered=%v received=%+v", e.q.delivered(id), got)
	}
}

type lockedBuffer = testkit.SyncBuffer

// DEBUG_TX logs every command but never the relay credentials, in the
// AUTH line or in the answers to the relay's challenges.
func TestDebugTXHidesRelayPassword(t *testing.T) {
	t.Parallel()
	const pass = "TopSecret!"
	for _, mech := range []string{sendmail.AuthPlain, sendmail.AuthLogin, sendmail.AuthCRAMMD5} {
		t.Run(mech, func(t *testing.T) {
			t.Parallel()
			p := startPeer(t, peerOpts{users: map[string]string{"bbs": pass}})
			e := relayEnv(t, p, mech, pass)
			var log lockedBuffer
			e.cfg.DebugTX = true
			e.cfg.Logger = slog.New(slog.NewTextHandler(&log, nil))
			id := e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "joe@one.test"}, testMsg)
			e.runOnce(t)
			if !e.q.delivered(id) {
				t.Fatal("not delivered")
			}
			out := log.String()
			if !strings.Contains(out, "MAIL FROM") {
				t.Fatalf("DEBUG_TX logged no commands:\n%s", out)
			}
			for _, secret := range []string{pass, base64.StdEncoding.EncodeToString([]byte(pass)),
				base64.StdEncoding.EncodeToString([]byte("\x00bbs\x00" + pass)), base64.StdEncoding.EncodeToString([]byte("bbs"))} {
				if strings.Contains(out, secret) {
					t.Fatalf("log contains %q:\n%s", secret, out)
				}
			}
		})
	}
}
