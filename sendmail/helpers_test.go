package sendmail_test

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"
	"errors"

	"context"
	"crypto/tls"

	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/internal/testkit"
	"github.com/bbsmail/bbsmail/sendmail"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/miekg/dns"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// memQueue is an in-memory Queue with the mailbase's semantics.
type memQueue struct {
	mu      sync.Mutex
	next    uint64
	entries map[uint64]*sendmail.Entry
	msgs    map[uint64][]byte
	failed  map[uint64]string
	done    map[uint64]bool
	// calls logs the scheduling calls in order: "claim", "next", "defer".
	calls []string
}

func newMemQueue() *memQueue {
	return &memQueue{entries: map[uint64]*sendmail.Entry{}, msgs: map[uint64][]byte{},
		failed: map[uint64]string{}, done: map[uint64]bool{}}
}

// add queues msg for rcpt and returns the entry's id.
func (q *memQueue) add(e sendmail.Entry, msg string) uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.next++
	e.ID = q.next
	if e.Size == 0 {
		e.Size = int64(len(msg))
	}
	q.entries[e.ID] = &e
	q.msgs[e.ID] = []byte(msg)
	return e.ID
}

func (q *memQueue) get(id uint64) (sendmail.Entry, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	e, ok := q.entries[id]
	if !ok {
		return sendmail.Entry{}, false
	}
	return *e, true
}

func (q *memQueue) delivered(id uint64) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.done[id]
}

func (q *memQueue) failedWith(id uint64) (string, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	s, ok := q.failed[id]
	return s, ok
}

// clearTransit is what the wiring does at start-up without SEND_INTRANSIT.
func (q *memQueue) clearTransit() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, e := range q.entries {
		e.InTransit = false
	}
}

// count returns how often call appears in the call log, and the index of
// its last appearance (-1 when none).
func (q *memQueue) count(call string) (n, last int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	last = -1
	for i, c := range q.calls {
		if c == call {
			n, last = n+1, i
		}
	}
	return n, last
}

func (q *memQueue) QueueClaim(now time.Time, max int, inTransit bool) ([]sendmail.Entry, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.calls = append(q.calls, "claim")
	var ids []uint64
	for id, e := range q.entries {
		if !e.NextAttempt.After(now) && (!e.InTransit || inTransit) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	var out []sendmail.Entry
	for _, id := range ids {
		if len(out) == max {
			break
		}
		q.entries[id].InTransit = true
		out = append(out, *q.entries[id])
	}
	return out, nil
}

func (q *memQueue) QueueMessage(id uint64) ([]byte, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	m, ok := q.msgs[id]
	if !ok {
		return nil, fmt.Errorf("no message %d", id)
	}
	return m, nil
}

func (q *memQueue) take(id uint64) error {
	e, ok := q.entries[id]
	if !ok {
		return fmt.Errorf("no entry %d", id)
	}
	if !e.InTransit {
		return fmt.Errorf("entry %d settled while not in transit", id)
	}
	delete(q.entries, id)
	return nil
}

func (q *memQueue) QueueDelivered(ids ...uint64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	var errs []error
	for _, id := range ids {
		q.done[id] = true
		errs = append(errs, q.take(id))
	}
	return errors.Join(errs...)
}

func (q *memQueue) QueueDefer(id uint64, next time.Time, lastErr string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.calls = append(q.calls, "defer")
	e, ok := q.entries[id]
	if !ok || !e.InTransit {
		return fmt.Errorf("deferring entry %d that is not in transit", id)
	}
	e.Attempts++
	e.NextAttempt = next
	e.LastError = lastErr
	e.InTransit = false
	return nil
}

func (q *memQueue) QueueFail(id uint64, lastErr string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.failed[id] = lastErr
	return q.take(id)
}

func (q *memQueue) NextQueueTime() (time.Time, bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.calls = append(q.calls, "next")
	var next time.Time
	ok := false
	for _, e := range q.entries {
		if e.InTransit {
			continue
		}
		if !ok || e.NextAttempt.Before(next) {
			next, ok = e.NextAttempt, true
		}
	}
	return next, ok, nil
}

// drop records the notices the Sender stores.
type drop struct {
	mu   sync.Mutex
	envs []*envelope.Envelope
	msgs [][]byte
}

func (d *drop) Deliver(_ context.Context, env *envelope.Envelope, msg []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.envs = append(d.envs, env)
	d.msgs = append(d.msgs, msg)
	return nil
}

func (d *drop) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.envs)
}

// text returns the i-th notice stored.
func (d *drop) text(i int) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return string(d.msgs[i])
}

// dnsServer serves test zones over UDP and TCP on one loopback port.
type dnsServer struct {
	Addr     string
	mu       sync.Mutex
	rrs      []dns.RR
	truncate map[string]bool // names whose UDP answers come back truncated
	tcpSeen  map[string]int
}

// startDNS serves the records of testdata/<zone>.
func startDNS(t *testing.T, zoneFile string) *dnsServer {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", zoneFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := &dnsServer{truncate: map[string]bool{}, tcpSeen: map[string]int{}}
	zp := dns.NewZoneParser(f, ".", zoneFile)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		d.rrs = append(d.rrs, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	var pc net.PacketConn
	var ln net.Listener
	for range 20 {
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		pc.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	d.Addr = pc.LocalAddr().String()
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: d}, {Listener: ln, Handler: d}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		<-started
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
	return d
}

func (d *dnsServer) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	q := r.Question[0]
	_, tcp := w.RemoteAddr().(*net.TCPAddr)
	d.mu.Lock()
	trunc := d.truncate[strings.ToLower(q.Name)]
	if tcp {
		d.tcpSeen[strings.ToLower(q.Name)]++
	}
	d.mu.Unlock()
	if trunc && !tcp {
		m.Truncated = true
		_ = w.WriteMsg(m)
		return
	}
	exists := false
	for _, rr := range d.rrs {
		h := rr.Header()
		if !strings.EqualFold(h.Name, q.Name) {
			continue
		}
		exists = true
		if h.Rrtype == q.Qtype {
			m.Answer = append(m.Answer, rr)
		}
	}
	if !exists {
		m.Rcode = dns.RcodeNameError
	}
	_ = w.WriteMsg(m)
}

// received is one message a peer accepted.
type received struct {
	From  string
	Rcpts []string
	Data  []byte
	TLS   bool
	User  string // authenticated user
}

// peer is a go-smtp receiving server with scripted answers.
type peer struct {
	Addr   string
	server *smtp.Server

	mu   sync.Mutex
	msgs []received
	// rcptErr answers RCPT for an address; dataErrs are returned by the
	// first DATA commands, one each, before DATA succeeds.
	rcptErr  map[string]*smtp.SMTPError
	dataErrs []*smtp.SMTPError
	users    map[string]string // AUTH credentials; nil: no AUTH
	sessions int               // connections accepted
	// With dropAtMail n > 0, a connection that has accepted n messages is
	// closed without a reply when the next MAIL arrives. With dropAfterData
	// n > 0, the n-th message of a connection is accepted and recorded,
	// and the connection is closed instead of answering 250.
	dropAtMail    int
	dropAfterData int
}

type peerOpts struct {
	host  string // loopback address to listen on; 127.0.0.1 when blank
	port  string
	tls   *tls.Config
	users map[string]string
}

func startPeer(t *testing.T, o peerOpts) *peer {
	t.Helper()
	if o.host == "" {
		o.host = "127.0.0.1"
	}
	if o.port == "" {
		o.port = "0"
	}
	p := &peer{rcptErr: map[string]*smtp.SMTPError{}, users: o.users}
	s := smtp.NewServer(p)
	s.Domain = "peer.test"
	s.AllowInsecureAuth = true
	s.TLSConfig = o.tls
	s.ReadTimeout = 10 * time.Second
	s.WriteTimeout = 10 * time.Second
	ln, err := net.Listen("tcp", net.JoinHostPort(o.host, o.port))
	if err != nil {
		t.Fatal(err)
	}
	p.Addr = ln.Addr().String()
	p.server = s
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(func() { s.Close() })
	return p
}

func (p *peer) port() string {
	_, port, _ := net.SplitHostPort(p.Addr)
	return port
}

func (p *peer) received() []received {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.msgs)
}

func (p *peer) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	p.mu.Lock()
	p.sessions++
	p.mu.Unlock()
	return &peerSession{p: p, conn: c, tls: isTLS}, nil
}

// connections returns how many connections the peer accepted.
func (p *peer) connections() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sessions
}

type peerSession struct {
	p    *peer
	conn *smtp.Conn
	tls  bool
	user string
	cur  received
	n    int // messages accepted on this connection
}

func (s *peerSession) Reset()        { s.cur = received{} }
func (s *peerSession) Logout() error { return nil }

func (s *peerSession) Mail(from string, _ *smtp.MailOptions) error {
	s.p.mu.Lock()
	drop := s.p.dropAtMail > 0 && s.n >= s.p.dropAtMail
	s.p.mu.Unlock()
	if drop {
		_ = s.conn.Conn().Close()
		return errors.New("connection dropped")
	}
	s.cur.From = from
	return nil
}

func (s *peerSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.p.mu.Lock()
	e := s.p.rcptErr[to]
	s.p.mu.Unlock()
	if e != nil {
		return e
	}
	s.cur.Rcpts = append(s.cur.Rcpts, to)
	return nil
}

func (s *peerSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	if len(s.p.dataErrs) > 0 {
		e := s.p.dataErrs[0]
		s.p.dataErrs = s.p.dataErrs[1:]
		return e
	}
	s.cur.Data = b
	s.cur.User = s.user
	s.cur.TLS = s.tls
	s.p.msgs = append(s.p.msgs, s.cur)
	s.n++
	if s.n == s.p.dropAfterData {
		// The message is taken, but the client never hears so.
		_ = s.conn.Conn().Close()
	}
	return nil
}

func (s *peerSession) AuthMechanisms() []string {
	if s.p.users == nil {
		return nil
	}
	return []string{"PLAIN", "LOGIN", "CRAM-MD5"}
}

func (s *peerSession) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if want, ok := s.p.users[user]; !ok || want != pass {
			return smtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}
	switch mech {
	case "PLAIN":
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case "LOGIN":
		return &loginServer{check: check}, nil
	case "CRAM-MD5":
		return &cramServer{users: s.p.users, ok: func(u string) { s.user = u }}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

// loginServer is a test-only LOGIN mechanism server.
type loginServer struct {
	check func(user, pass string) error
	step  int
	user  string
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	l.step++
	switch {
	case l.step == 1 && resp == nil:
		return []byte("Username:"), false, nil
	case l.step == 1:
		l.user = string(resp)
		l.step++
		return []byte("Password:"), false, nil
	case l.step == 2:
		l.user = string(resp)
		return []byte("Password:"), false, nil
	}
	return nil, true, l.check(l.user, string(resp))
}

// cramServer is a test-only CRAM-MD5 mechanism server.
type cramServer struct {
	users     map[string]string
	ok        func(user string)
	challenge []byte
}

func (c *cramServer) Next(resp []byte) ([]byte, bool, error) {
	if c.challenge == nil {
		c.challenge = []byte("<1896.697170952@peer.test>")
		return c.challenge, false, nil
	}
	user, digest, _ := strings.Cut(string(resp), " ")
	pass, known := c.users[user]
	if !known || digest != cramDigest(pass, c.challenge) {
		return nil, true, smtp.ErrAuthFailed
	}
	c.ok(user)
	return nil, true, nil
}

// testCert returns a self-signed certificate for loopback peers.
func testCert(t *testing.T) tls.Certificate {
	t.Helper()
	cert, _ := testkit.Cert(t, "mx.example.test")
	return cert
}

// env is one test's world: a queue, a maildrop, a clock and a Sender.
type env struct {
	q     *memQueue
	drop  *drop
	clock *clock
	cfg   sendmail.Config
	dir   string
}

func newEnv(t *testing.T) *env {
	dir := t.TempDir()
	c := newClock()
	return &env{q: newMemQueue(), drop: &drop{}, clock: c, dir: dir, cfg: sendmail.Config{
		HostName:       "bbs.example.org",
		ConnectTimeout: 5 * time.Second,
		IOTimeout:      10 * time.Second,
		DataTimeout:    10 * time.Second,
		ExemptFile:     filepath.Join(dir, "dnsbl_exempt.cfg"),
		Now:            c.Now,
	}}
}

func (e *env) sender() *sendmail.Sender {
	return sendmail.New(e.cfg, sendmail.Deps{Queue: e.q, Maildrop: e.drop})
}

// runOnce makes one pass over the queue and fails the test on error.
func (e *env) runOnce(t *testing.T) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := e.sender().RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

const testMsg = "Received: from bbs.example.org\r\n" +
	"From: Sysop <sysop@bbs.example.org>\r\n" +
	"To: joe@example.test\r\n" +
	"Subject: Hello\r\n" +
	"\r\n" +
	"Hello Joe.\r\n" +
	".a line that starts with a dot\r\n" +
	".\r\n" +
	"Bye.\r\n"

func cramDigest(pass string, challenge []byte) string {
	m := hmac.New(md5.New, []byte(pass))
	m.Write(challenge)
	return hex.EncodeToString(m.Sum(nil))
}

func (p *peer) failRcpt(addr string, code int, enh smtp.EnhancedCode, text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rcptErr[addr] = &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: text}
}

func (p *peer) failData(errs ...*smtp.SMTPError) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dataErrs = errs
}

func (d *dnsServer) truncateUDP(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.truncate[name] = true
}
