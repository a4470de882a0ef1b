package smtpd_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/internal/testkit"
	"github.com/bbsmail/bbsmail/smtpd"
)

// testServer is an in-process server on 127.0.0.1:0 with fake deps.
type testServer struct {
	srv       *smtpd.Server
	addr      string
	drop      *fakeDrop
	tele      *fakeTelegrams
	log       *syncBuffer
	spamLog   string
	clientTLS *tls.Config
	// serverCert is the DER certificate the server presents.
	serverCert []byte
	mode       smtpd.Mode
}

// startServer starts a server in mode; edit may change the config first,
// and deps the collaborators.
func startServer(t *testing.T, mode smtpd.Mode, edit func(*smtpd.Config), deps ...func(*smtpd.Deps)) *testServer {
	t.Helper()
	return startServerOn(t, nil, mode, edit, deps...)
}

// startServerOn is startServer with the listener wrapped by wrap (when not
// nil), to watch what the server does with its connections.
func startServerOn(t *testing.T, wrap func(net.Listener) net.Listener, mode smtpd.Mode, edit func(*smtpd.Config), deps ...func(*smtpd.Deps)) *testServer {
	t.Helper()
	logger, buf := testLogger(t)
	serverTLS, clientTLS := testTLS(t)
	ts := &testServer{
		drop:       &fakeDrop{},
		tele:       &fakeTelegrams{online: map[uint32]bool{1: true}},
		log:        buf,
		spamLog:    filepath.Join(t.TempDir(), "spam.log"),
		clientTLS:  clientTLS,
		serverCert: serverTLS.Certificates[0].Certificate[0],
		mode:       mode,
	}
	cfg := smtpd.Config{
		HostName:      localDomain,
		Version:       "1.0",
		TLS:           serverTLS,
		MaxInactivity: 10 * time.Second,
		MaxMsgSize:    20 << 20,
		MaxRecipients: 100,
		SpamLogPath:   ts.spamLog,
		Logger:        logger,
		LookupAddr: func(context.Context, string) ([]string, error) {
			return []string{"client.example."}, nil
		},
		LookupHost: func(_ context.Context, host string) ([]string, error) {
			if host == "client.example" { // the client's name resolves back to it
				return []string{"127.0.0.1"}, nil
			}
			return []string{"192.0.2.1"}, nil
		},
		DebugTx: true, DebugRxRsp: true, DebugRxHeader: true, DebugRxBody: true,
	}
	if edit != nil {
		edit(&cfg)
	}
	d := smtpd.Deps{Auth: fakeAuth{}, Resolver: fakeResolver{allowRelay: cfg.AllowRelay, tele: ts.tele}, Maildrop: ts.drop, Telegrams: ts.tele}
	for _, f := range deps {
		f(&d)
	}
	ts.srv = smtpd.New(cfg, d)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = l.Addr().String()
	if wrap != nil {
		l = wrap(l)
	}
	served := make(chan error, 1)
	go func() { served <- ts.srv.Serve(l, mode) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := ts.srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, smtpd.ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	return ts
}

// client is one test connection with line helpers.
type client struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func (ts *testServer) dial(t *testing.T) *client {
	t.Helper()
	c, err := ts.dialConn("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	return &client{t: t, conn: c, r: bufio.NewReader(c)}
}

// dialConn connects from the local address from ("" = any), with TLS from
// the start on the port 465 listener.
func (ts *testServer) dialConn(from string) (net.Conn, error) {
	c, err := testkit.Dial(ts.addr, from)
	if err != nil {
		return nil, err
	}
	if ts.mode == smtpd.SubmissionTLS {
		return tls.Client(c, ts.clientTLS), nil
	}
	return c, nil
}

func (c *client) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, s); err != nil {
		c.t.Fatalf("send %q: %v", s, err)
	}
}

// readLine returns the next server line without CR LF, or io.EOF.
func (c *client) readLine() (string, error) {
	line, err := c.r.ReadString('\n')
	if err != nil {
		if line != "" {
			return line, err
		}
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func (c *client) expect(prefix string) string {
	c.t.Helper()
	line, err := c.readLine()
	if err != nil {
		c.t.Fatalf("want %q, got %q, %v", prefix, line, err)
	}
	if !strings.HasPrefix(line, prefix) {
		c.t.Fatalf("want %q..., got %q", prefix, line)
	}
	return line
}

// expectClosed waits for the server to close the connection.
func (c *client) expectClosed() {
	c.t.Helper()
	for {
		line, err := c.readLine()
		if err != nil {
			if !testkit.IsClosed(err) {
				c.t.Fatalf("waiting for the server to close: %v", err)
			}
			return
		}
		c.t.Logf("before close: %q", line)
	}
}

// cmd sends one command and checks the reply's first line; multi-line
// replies are read to their end.
func (c *client) cmd(line, prefix string) string {
	c.t.Helper()
	c.send(line + "\r\n")
	for {
		l := c.expect(prefix[:min(3, len(prefix))])
		if len(l) < 4 || l[3] != '-' {
			if !strings.HasPrefix(l, prefix) {
				c.t.Fatalf("%s: want %q..., got %q", line, prefix, l)
			}
			return l
		}
	}
}

// startTLS upgrades the client after a 220 to STARTTLS.
func (c *client) startTLS(cfg *tls.Config) {
	c.t.Helper()
	tc := tls.Client(c.conn, cfg)
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("TLS handshake: %v", err)
	}
	c.conn = tc
	c.r = bufio.NewReader(tc)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(b)
}
