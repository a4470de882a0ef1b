package smtpd_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/internal/testkit"
)

// The fakes below stand in for the mailbase and the routing rules: the
// proof here is the protocol, so they hold just enough policy to exercise
// every reply.

const localDomain = "bbs.example"

type fakeUser struct {
	id       envelope.Identity
	password string
}

func fakeUsers() map[string]fakeUser {
	return map[string]fakeUser{
		"sysop": {envelope.Identity{User: 1, Alias: "Sysop", MayRelay: true}, "Secret1"},
		"guest": {envelope.Identity{User: 2, Alias: "Guest", MayRelay: false}, "guestpw"},
	}
}

type fakeAuth struct{}

var errNoSuchUser = errors.New("no such user")

func (fakeAuth) Authenticate(_ context.Context, login, password string) (envelope.Identity, error) {
	u, ok := fakeUsers()[strings.ToLower(login)]
	if !ok || !strings.EqualFold(u.password, password) {
		return envelope.Identity{}, errNoSuchUser
	}
	return u.id, nil
}

func (fakeAuth) Secret(_ context.Context, login string) (envelope.Identity, string, error) {
	u, ok := fakeUsers()[strings.ToLower(login)]
	if !ok {
		return envelope.Identity{}, "", errNoSuchUser
	}
	return u.id, u.password, nil
}

// fakeResolver knows the local domain bbs.example with users sysop (#1),
// guest (#2), fwd (#3, forwarded), full (mailbox full) and bait (spam
// bait); any other domain is remote and needs the relay right. Like
// route.Resolver it refuses a relay with a closing reply (553 with
// ALLOW_RELAY), a telegram to anything but a user's mailbox, and SEND to
// a user who is not online (tele).
type fakeResolver struct {
	allowRelay bool
	tele       *fakeTelegrams
}

func (r fakeResolver) Resolve(ctx context.Context, q envelope.RcptQuery) (envelope.Rcpt, error) {
	rc, err := r.resolve(q)
	switch {
	case err != nil || !q.Telegram:
		return rc, err
	case rc.User == 0 || rc.Kind != envelope.KindMailbox:
		return envelope.Rcpt{}, envelope.UnknownUser(q.Arg, envelope.ErrUnknownUser)
	case q.SendOnly && (r.tele == nil || !r.tele.Online(ctx, rc.User)):
		return envelope.Rcpt{}, &envelope.Reply{Code: 450, Enhanced: "4.2.1", Text: "User unavailable", Err: envelope.ErrUnavailable}
	}
	return rc, nil
}

func (r fakeResolver) resolve(q envelope.RcptQuery) (envelope.Rcpt, error) {
	path, _, err := envelope.ParsePath(q.Arg)
	if err != nil {
		return envelope.Rcpt{}, envelope.Replyf(501, "5.1.3", "Bad recipient address syntax")
	}
	local, domain := envelope.SplitAddress(path)
	if !q.Telegram && domain != "" && !strings.EqualFold(domain, localDomain) {
		if !q.MayRelay {
			if r.allowRelay {
				return envelope.Rcpt{}, &envelope.Reply{Code: 553, Enhanced: "5.7.1",
					Text:  "Relaying through this server requires authentication.  Please authenticate before sending.",
					Close: true, Err: envelope.ErrRelayDenied}
			}
			return envelope.Rcpt{}, &envelope.Reply{Code: 550, Enhanced: "5.7.1", Text: "Relay not allowed.", Close: true, Err: envelope.ErrRelayDenied}
		}
		return envelope.Rcpt{Kind: envelope.KindRemote, To: local, NetType: envelope.NetInternet, NetAddr: path, ForwardPath: q.Arg}, nil
	}
	switch strings.ToLower(local) {
	case "sysop":
		return envelope.Rcpt{Kind: envelope.KindMailbox, To: "Sysop", User: 1, ForwardPath: q.Arg}, nil
	case "guest":
		return envelope.Rcpt{Kind: envelope.KindMailbox, To: "Guest", User: 2, ForwardPath: q.Arg}, nil
	case "fwd":
		return envelope.Rcpt{Kind: envelope.KindMailbox, To: "Fwd", User: 3, Forwarded: true,
			NetType: envelope.NetInternet, NetAddr: "fwd@elsewhere.example"}, nil
	case "full":
		return envelope.Rcpt{}, &envelope.Reply{Code: 450, Enhanced: "4.2.2", Text: "Mailbox full: " + q.Arg, Err: envelope.ErrMailboxFull}
	case "panic":
		panic("resolver bug")
	case "bait":
		return envelope.Rcpt{Kind: envelope.KindDrop, ForwardPath: q.Arg}, nil
	}
	return envelope.Rcpt{}, envelope.UnknownUser(q.Arg, envelope.ErrUnknownUser)
}

// OwnsSender: a user owns alias@bbs.example, and any foreign address when
// it may relay.
func (r fakeResolver) OwnsSender(_ context.Context, id envelope.Identity, addr string) (bool, string) {
	local, domain := envelope.SplitAddress(addr)
	own := strings.ToLower(id.Alias) + "@" + localDomain
	if domain != "" && !r.IsLocal(domain, 0) {
		return id.MayRelay, own
	}
	return strings.EqualFold(local, id.Alias) && strings.EqualFold(domain, localDomain), own
}

func (fakeResolver) IsLocal(domain string, _ int) bool { return strings.EqualFold(domain, localDomain) }

// fakeDrop records deliveries; fail makes Deliver return that error.
type fakeDrop struct {
	mu   sync.Mutex
	fail error
	envs []*envelope.Envelope
	msgs [][]byte
}

func (d *fakeDrop) Deliver(_ context.Context, env *envelope.Envelope, msg []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail != nil {
		return d.fail
	}
	d.envs = append(d.envs, env)
	d.msgs = append(d.msgs, bytes.Clone(msg))
	return nil
}

func (d *fakeDrop) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.envs)
}

func (d *fakeDrop) last() (*envelope.Envelope, []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.envs) == 0 {
		return nil, nil
	}
	return d.envs[len(d.envs)-1], d.msgs[len(d.msgs)-1]
}

type telegram struct {
	user uint32
	text string
}

type fakeTelegrams struct {
	mu     sync.Mutex
	online map[uint32]bool
	sent   []telegram
}

func (f *fakeTelegrams) Online(_ context.Context, user uint32) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.online[user]
}

func (f *fakeTelegrams) SendTelegram(_ context.Context, user uint32, text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, telegram{user, text})
	return nil
}

func (f *fakeTelegrams) all() []telegram {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]telegram(nil), f.sent...)
}

// matchIP is a relay.cfg / ipfilter_exempt.cfg stand-in.
type matchIP string

func (m matchIP) Match(s ...string) bool {
	for _, x := range s {
		if x == string(m) {
			return true
		}
	}
	return false
}

type syncBuffer = testkit.SyncBuffer

func testLogger(t *testing.T) (*slog.Logger, *syncBuffer) {
	t.Helper()
	buf := &syncBuffer{}
	l := slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", buf.String())
		}
	})
	return l, buf
}

// testTLS returns a server config with a fresh self-signed certificate for
// bbs.example and 127.0.0.1, and a client config that trusts it.
func testTLS(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	cert, pool := testkit.Cert(t, localDomain)
	server = &tls.Config{Certificates: []tls.Certificate{cert}}
	client = &tls.Config{RootCAs: pool, ServerName: localDomain}
	return server, client
}

// fakeDNSBL lists every client on "bl.test Test DNSBL" as 127.0.0.2
// (listed), or fails the lookup (fail).
type fakeDNSBL struct {
	listed bool
	fail   bool
}

func (f fakeDNSBL) Check(_ context.Context, ip string) (bool, string, string, error) {
	if f.fail {
		return false, "", "", errors.New("dnsbl bl.test: query timed out")
	}
	return f.listed, "bl.test Test DNSBL", "127.0.0.2", nil
}
