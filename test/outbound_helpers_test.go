package test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/miekg/dns"
)

// Peers for the outbound tests: a DNS server that SendMail asks for MX and
// address records, a go-smtp server that records what arrives (and can
// demand AUTH or hold a transaction open), and Postfix's smtp-sink.
// Everything listens on 127.0.0.1.

// outboundDNS is an authoritative DNS server for the test domains. Names
// it has no records for are NXDOMAIN; every question is recorded.
type outboundDNS struct {
	addr string
	zone map[string][]dns.RR // lower-case owner name → records

	mu  sync.Mutex
	log []string // "name type", in arrival order
}

// startOutboundDNS serves the given records (zone-file lines such as
// "remote.test. 60 IN MX 10 mx.remote.test.") over UDP and TCP on the same
// loopback port.
func startOutboundDNS(t *testing.T, records []string) *outboundDNS {
	t.Helper()
	d := &outboundDNS{zone: map[string][]dns.RR{}}
	for _, line := range records {
		rr, err := dns.NewRR(line)
		if err != nil {
			t.Fatalf("bad record %q: %v", line, err)
		}
		name := strings.ToLower(rr.Header().Name)
		d.zone[name] = append(d.zone[name], rr)
	}
	pc, ln := outboundListenPair(t)
	d.addr = pc.LocalAddr().String()
	udp := &dns.Server{PacketConn: pc, Handler: d}
	tcp := &dns.Server{Listener: ln, Handler: d}
	for _, s := range []*dns.Server{udp, tcp} {
		go func() { _ = s.ActivateAndServe() }()
	}
	t.Cleanup(func() {
		_ = udp.Shutdown()
		_ = tcp.Shutdown()
	})
	return d
}

// outboundListenPair opens a UDP socket and a TCP listener on one free
// loopback port, trying again when the TCP side of the port is taken.
func outboundListenPair(t *testing.T) (net.PacketConn, net.Listener) {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp4", pc.LocalAddr().String())
		if err == nil {
			return pc, ln
		}
		pc.Close()
	}
	t.Fatal("no loopback port free for both UDP and TCP")
	return nil, nil
}

// ServeDNS answers from the zone.
func (d *outboundDNS) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	for _, q := range r.Question {
		name := strings.ToLower(q.Name)
		d.mu.Lock()
		d.log = append(d.log, name+" "+dns.TypeToString[q.Qtype])
		d.mu.Unlock()
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
	_ = w.WriteMsg(m)
}

// queries returns the questions asked so far.
func (d *outboundDNS) queries() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.log...)
}

// asked reports whether any question was about name (a fully qualified,
// lower-case name).
func (d *outboundDNS) asked(name string) bool {
	for _, q := range d.queries() {
		if strings.HasPrefix(q, name+" ") {
			return true
		}
	}
	return false
}

// outboundMXRecords points domain's MX at mx.<domain>, which is 127.0.0.1.
func outboundMXRecords(domains ...string) []string {
	var out []string
	for _, d := range domains {
		out = append(out,
			fmt.Sprintf("%s. 60 IN MX 10 mx.%s.", d, d),
			fmt.Sprintf("mx.%s. 60 IN A 127.0.0.1", d))
	}
	return out
}

// outboundMsg is one transaction a peer accepted.
type outboundMsg struct {
	helo     string
	authUser string
	from     string
	rcpts    []string
	data     []byte
}

// outboundPeer is a go-smtp server that records every message it accepts.
type outboundPeer struct {
	addr string
	port int
	// user and pass, when set, make AUTH PLAIN with them compulsory.
	user, pass string

	mu     sync.Mutex
	msgs   []outboundMsg
	held   int           // transactions waiting in MAIL for release
	hold   chan struct{} // when not nil, MAIL waits until it is closed
	closed chan struct{}
}

// startOutboundPeer starts a go-smtp server on a free loopback port.
func startOutboundPeer(t *testing.T, user, pass string) *outboundPeer {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &outboundPeer{addr: ln.Addr().String(), port: ln.Addr().(*net.TCPAddr).Port,
		user: user, pass: pass, closed: make(chan struct{})}
	s := smtp.NewServer(p)
	s.Domain = "peer.test"
	s.AllowInsecureAuth = true // the relay of RELAY_TX tests speaks AUTH without TLS
	s.ReadTimeout = time.Minute
	s.WriteTimeout = time.Minute
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(func() {
		close(p.closed)
		_ = s.Close()
	})
	return p
}

// holdMail makes every following MAIL FROM wait until release is called,
// so a delivery stays in transit as long as the test needs.
func (p *outboundPeer) holdMail() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hold = make(chan struct{})
}

// release lets held and later transactions go on.
func (p *outboundPeer) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hold != nil {
		close(p.hold)
		p.hold = nil
	}
}

func (p *outboundPeer) holding() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.held
}

func (p *outboundPeer) messages() []outboundMsg {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]outboundMsg(nil), p.msgs...)
}

// NewSession implements smtp.Backend.
func (p *outboundPeer) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &outboundSession{p: p, helo: c.Hostname()}, nil
}

type outboundSession struct {
	p        *outboundPeer
	helo     string
	authUser string
	from     string
	rcpts    []string
}

var _ smtp.AuthSession = (*outboundSession)(nil)

func (s *outboundSession) AuthMechanisms() []string {
	if s.p.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *outboundSession) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain || s.p.user == "" {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != s.p.user || password != s.p.pass || (identity != "" && identity != username) {
			return smtp.ErrAuthFailed
		}
		s.authUser = username
		return nil
	}), nil
}

func (s *outboundSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.p.user != "" && s.authUser == "" {
		return smtp.ErrAuthRequired
	}
	s.p.mu.Lock()
	hold := s.p.hold
	if hold != nil {
		s.p.held++
	}
	s.p.mu.Unlock()
	if hold != nil {
		defer func() {
			s.p.mu.Lock()
			s.p.held--
			s.p.mu.Unlock()
		}()
		select {
		case <-hold:
		case <-s.p.closed:
			return errors.New("peer closed")
		}
	}
	s.from = from
	return nil
}

func (s *outboundSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.rcpts = append(s.rcpts, to)
	return nil
}

func (s *outboundSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.p.mu.Lock()
	s.p.msgs = append(s.p.msgs, outboundMsg{helo: s.helo, authUser: s.authUser, from: s.from,
		rcpts: append([]string(nil), s.rcpts...), data: data})
	s.p.mu.Unlock()
	return nil
}

func (s *outboundSession) Reset()        { s.from, s.rcpts = "", nil }
func (s *outboundSession) Logout() error { return nil }

// outboundSink is a running smtp-sink.
type outboundSink struct {
	port   int
	dump   string // directory of per-transaction dump files
	cancel context.CancelFunc
	done   chan struct{}
}

// startOutboundSink runs Postfix's smtp-sink on 127.0.0.1:port (0 = a
// free port) with extra options such as "-f", "RCPT" (hard-reject RCPT)
// and waits until it accepts connections. Each transaction is dumped to
// its own file in a fresh directory.
func startOutboundSink(t *testing.T, port int, opts ...string) *outboundSink {
	t.Helper()
	bin := needTool(t, "smtp-sink", "postfix")
	if port == 0 {
		port = freePorts(t, 1)[0]
	}
	dump := t.TempDir()
	args := []string{"-d", filepath.Join(dump, "msg.")}
	if os.Geteuid() == 0 {
		// smtp-sink will not run as root, and the unprivileged user it
		// switches to has to reach the dump directory.
		args = append(args, "-u", "nobody")
		for _, d := range []string{filepath.Dir(dump), dump} {
			if err := os.Chmod(d, 0o777); err != nil {
				t.Fatal(err)
			}
		}
	}
	args = append(append(args, opts...), fmt.Sprintf("127.0.0.1:%d", port), "10")
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting smtp-sink: %v", err)
	}
	s := &outboundSink{port: port, dump: dump, cancel: cancel, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.done) }()
	t.Cleanup(s.stop)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	waitFor(t, 15*time.Second, "smtp-sink on "+addr, func() bool {
		select {
		case <-s.done:
			t.Fatalf("smtp-sink exited: %s", stderr.String())
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
	return s
}

// stop ends smtp-sink and waits until it has gone, so its port is free.
func (s *outboundSink) stop() {
	s.cancel()
	<-s.done
}

// dumps returns the transactions smtp-sink has written so far.
func (s *outboundSink) dumps() []string {
	files, _ := filepath.Glob(filepath.Join(s.dump, "msg.*"))
	var out []string
	for _, f := range files {
		if data, err := os.ReadFile(f); err == nil {
			out = append(out, string(data))
		}
	}
	return out
}

// outboundOptions are the harness's default [Mail] Options with SendMail
// running.
const outboundOptions = "ALLOW_POP3 | USE_SUBMISSION_PORT | TLS_SUBMISSION | TLS_POP3 | NO_HOST_LOOKUP"

// outboundBBS prepares a BBS whose SendMail runs, asks dns for MX records
// and delivers MX mail to mxPort.
func outboundBBS(t *testing.T, dns *outboundDNS, mxPort int) *bbs {
	t.Helper()
	b := newBBS(t)
	b.mail["Options"] = outboundOptions
	b.mail["DNSServer"] = dns.addr
	if mxPort != 0 {
		b.mail["MXPort"] = itoa(mxPort)
	}
	return b
}

// outboundNotices waits until Alice's mailbox holds a failure notice for
// each of the subjects, and returns its rows.
func (b *bbs) outboundNotices(subjects ...string) []string {
	b.t.Helper()
	var rows []string
	if !routingPoll(30*time.Second, func() bool {
		rows = b.routingMailbox("alice")
		for _, s := range subjects {
			if _, ok := routingRowWith(rows, "Delivery failure: "+s); !ok {
				return false
			}
		}
		return true
	}) {
		b.t.Fatalf("want failure notices for %v:\n%s\nqueue:\n%s", subjects, strings.Join(rows, "\n"), strings.Join(b.routingQueue(), "\n"))
	}
	return rows
}

// outboundRunning starts a BBS whose SendMail delivers remote.test's mail
// to mxPort on 127.0.0.1, as the returned DNS server says, with the users
// Sysop and Alice (password outboundPW).
func outboundRunning(t *testing.T, mxPort int) (*bbs, *outboundDNS) {
	t.Helper()
	dns := startOutboundDNS(t, outboundMXRecords("remote.test"))
	b := outboundBBS(t, dns, mxPort)
	b.start()
	b.addUser("Sysop", outboundPW)
	b.addUser("Alice", outboundPW)
	return b, dns
}

// outboundQueueRow waits until the queue has exactly one entry to rcpt
// matching cond, and returns its fields.
func (b *bbs) outboundQueueRow(rcpt, what string, cond func(fields []string) bool) []string {
	b.t.Helper()
	var last, row []string
	ok := routingPoll(30*time.Second, func() bool {
		last = b.routingQueue()
		r, ok := routingRowWith(last, rcpt)
		if !ok {
			return false
		}
		row = outboundQueueFields(r)
		return cond(row)
	})
	if !ok {
		b.t.Fatalf("timed out waiting for %s; queue:\n%s", what, strings.Join(last, "\n"))
	}
	return row
}

// outboundQueueFields splits a `queue list` row into ID, queued, from, to,
// size, tries, next, state and last error. Dates take two fields each.
func outboundQueueFields(row string) []string {
	f := strings.Fields(row)
	if len(f) < 11 {
		return f
	}
	return []string{f[0], f[1] + " " + f[2], f[3], f[4], f[5], f[6], f[7] + " " + f[8], f[9], strings.Join(f[10:], " ")}
}

// outboundQueueEmpty waits until the outbound queue is empty.
func (b *bbs) outboundQueueEmpty(what string) {
	b.t.Helper()
	var rows []string
	if !routingPoll(30*time.Second, func() bool { rows = b.routingQueue(); return len(rows) == 0 }) {
		b.t.Fatalf("timed out waiting for %s: the queue still holds\n%s", what, strings.Join(rows, "\n"))
	}
}
