package pop3d_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/internal/testkit"
	"github.com/bbsmail/bbsmail/pop3d"
)

// fixture is the mailbase every dialog and interop test starts from; the
// README in testdata/dialogs lists it for dialog writers.
type fixtureUser struct {
	number   uint32
	alias    string
	password string
	msgs     []fixtureMsg
}

type fixtureMsg struct {
	id             uint64
	text           string
	spam, killRead bool
}

func fixture() []fixtureUser {
	return []fixtureUser{
		{number: 1, alias: "joe", password: "Secret Word", msgs: []fixtureMsg{
			{id: 7, text: "From: sysop@bbs.test\r\nSubject: one\r\n\r\nHello Joe\r\n"},
			{id: 9, spam: true, text: "Subject: buy now\r\nX-Spam-Flag: YES\r\n\r\nCheap stuff\r\n"},
			{id: 12, text: "Subject: dots\r\n\r\nline 1\r\n.hidden dot\r\nline 3\r\n..two\r\nline 5\r\n"},
		}},
		{number: 2, alias: "alice", password: "wonderland", msgs: []fixtureMsg{
			{id: 3, killRead: true, text: "Subject: read me once\r\n\r\nbye\r\n"},
			{id: 4, text: "Subject: keep\r\n\r\nstay\r\n"},
			{id: 5, spam: true, text: "Subject: spam\r\n\r\nspam\r\n"},
		}},
		{number: 3, alias: "empty", password: "nothing"},
	}
}

// fakeBase is an in-memory mailbase with the fixture's users. It records
// what the server did to it.
type fakeBase struct {
	mu      sync.Mutex
	users   []fixtureUser
	deleted map[uint32][]uint64
	read    map[uint32][]uint64
	deletes int // Delete calls
}

func newFakeBase() *fakeBase {
	return &fakeBase{users: fixture(), deleted: map[uint32][]uint64{}, read: map[uint32][]uint64{}}
}

func (f *fakeBase) user(login string) (*fixtureUser, error) {
	if login == "broken" {
		return nil, errors.New("mailbase offline")
	}
	for i := range f.users {
		if strings.EqualFold(f.users[i].alias, login) {
			return &f.users[i], nil
		}
	}
	return nil, fmt.Errorf("no user %q: %w", login, pop3d.ErrBadLogin)
}

func (f *fakeBase) Authenticate(_ context.Context, login, password string) (envelope.Identity, error) {
	u, err := f.user(login)
	if err != nil {
		return envelope.Identity{}, err
	}
	if !strings.EqualFold(u.password, password) {
		return envelope.Identity{}, fmt.Errorf("wrong password: %w", pop3d.ErrBadLogin)
	}
	return envelope.Identity{User: u.number, Alias: u.alias}, nil
}

func (f *fakeBase) Secret(_ context.Context, login string) (envelope.Identity, string, error) {
	u, err := f.user(login)
	if err != nil {
		return envelope.Identity{}, "", err
	}
	return envelope.Identity{User: u.number, Alias: u.alias}, u.password, nil
}

func (f *fakeBase) msgs(user uint32) []fixtureMsg {
	for _, u := range f.users {
		if u.number == user {
			return u.msgs
		}
	}
	return nil
}

func (f *fakeBase) List(_ context.Context, user uint32) ([]pop3d.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []pop3d.Message
	for _, m := range f.msgs(user) {
		if !slices.Contains(f.deleted[user], m.id) {
			out = append(out, pop3d.Message{ID: m.id, Size: int64(len(m.text)), Spam: m.spam, KillRead: m.killRead})
		}
	}
	return out, nil
}

func (f *fakeBase) Read(_ context.Context, user uint32, id uint64, buf []byte) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.msgs(user) {
		if m.id == id && !slices.Contains(f.deleted[user], id) {
			return append(buf, m.text...), nil
		}
	}
	return nil, fmt.Errorf("no message %d", id)
}

func (f *fakeBase) MarkRead(_ context.Context, user uint32, ids ...uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.read[user] = append(f.read[user], ids...)
	return nil
}

func (f *fakeBase) Delete(_ context.Context, user uint32, ids ...uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deletes++
	f.deleted[user] = append(f.deleted[user], ids...)
	return nil
}

// ids returns the sorted ids recorded in m for the user called alias.
func (f *fakeBase) ids(m map[uint32][]uint64, alias string) []uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, err := f.user(alias)
	if err != nil {
		return nil
	}
	out := slices.Clone(m[u.number])
	slices.Sort(out)
	return out
}

type syncBuffer = testkit.SyncBuffer

// testServer is a running server on 127.0.0.1 with a fake mailbase.
type testServer struct {
	srv     *pop3d.Server
	addr    string
	base    *fakeBase
	log     *syncBuffer
	certs   *x509.CertPool
	certDER []byte
	done    chan error
	closed  bool
}

// startServer serves cfg on a loopback listener. Its HostName, Logger and
// (when tlsOn) TLS are filled in here; deps may add collaborators.
func startServer(t *testing.T, cfg pop3d.Config, tlsOn, implicitTLS bool, deps ...func(*pop3d.Deps)) *testServer {
	t.Helper()
	ts := &testServer{base: newFakeBase(), log: &syncBuffer{}, done: make(chan error, 1)}
	cfg.HostName = "bbs.test"
	cfg.Version = "1.0"
	cfg.Logger = slog.New(slog.NewTextHandler(ts.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if tlsOn || implicitTLS {
		cfg.TLS, ts.certs = selfSigned(t)
		ts.certDER = cfg.TLS.Certificates[0].Certificate[0]
	}
	d := pop3d.Deps{Auth: ts.base, Mailbox: ts.base}
	for _, f := range deps {
		f(&d)
	}
	ts.srv = pop3d.New(cfg, d)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = l.Addr().String()
	mode := pop3d.Plain
	if implicitTLS {
		mode = pop3d.ImplicitTLS
	}
	go func() { ts.done <- ts.srv.Serve(l, mode) }()
	t.Cleanup(func() {
		ts.stop(t)
		if t.Failed() {
			t.Logf("server log:\n%s", ts.log.String())
		}
	})
	return ts
}

// stop shuts the server down and waits until every session has ended.
func (ts *testServer) stop(t *testing.T) {
	t.Helper()
	if ts.closed {
		return
	}
	ts.closed = true
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-ts.done; !errors.Is(err, pop3d.ErrServerClosed) {
		t.Errorf("Serve returned %v, want ErrServerClosed", err)
	}
}

func (ts *testServer) clientTLS() *tls.Config {
	return &tls.Config{RootCAs: ts.certs, ServerName: "bbs.test"}
}

// selfSigned makes a certificate for bbs.test and 127.0.0.1.
func selfSigned(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	cert, pool := testkit.Cert(t, "bbs.test")
	return &tls.Config{Certificates: []tls.Certificate{cert}}, pool
}
