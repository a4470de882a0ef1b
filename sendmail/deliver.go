package sendmail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/bbsmail/bbsmail/envelope"
)

// rcptState is the outcome of one attempt for one queue entry.
type rcptState struct {
	entry Entry
	path  string // the RCPT TO path: the address without a forced :port

	done bool // a definitive answer: delivered, or refused with 5xx
	ok   bool
	perm bool
	// host is the remote host that gave the answer, reply its reply; err
	// is the local or network error when there was no reply.
	host  string
	reply string
	code  string // enhanced status code of the reply, if any
	err   string

	settled bool // the queue has been told the outcome
}

// failText is the reason shown in LastError, logs and bounces.
func (r *rcptState) failText() string {
	switch {
	case r.reply != "" && r.host != "":
		return r.host + " replied: " + r.reply
	case r.reply != "":
		return r.reply
	case r.err != "":
		return r.err
	}
	return "delivery failed"
}

// setReply records a remote reply for this recipient; 2xx and 5xx are
// final for this attempt.
func (r *rcptState) setReply(host string, rep reply) {
	r.host, r.reply, r.code, r.err = host, rep.String(), rep.Enhanced(), ""
	switch {
	case rep.Code >= 200 && rep.Code < 300:
		r.done, r.ok, r.perm = true, true, false
	case rep.Permanent():
		r.done, r.ok, r.perm = true, false, true
	default:
		r.done, r.ok, r.perm = false, false, false
	}
}

// setErr records a failure that is not the recipient's own reply.
func (r *rcptState) setErr(host string, err error) {
	var re *replyError
	if errors.As(err, &re) {
		r.host, r.reply, r.code, r.err = host, re.Step+": "+re.Reply.String(), re.Reply.Enhanced(), ""
		r.perm = re.Permanent()
		return
	}
	r.host, r.reply, r.code, r.err = host, "", "", err.Error()
	r.perm = errors.Is(err, ErrNoDomain) || errors.Is(err, ErrNullMX) || errors.Is(err, ErrNoMailHost) || errors.Is(err, errUndeliverable)
}

// errUndeliverable is a destination that can never be reached by SMTP.
var errUndeliverable = errors.New("undeliverable address")

// target is where one job's connection goes.
type target struct {
	hosts []string // names or IP literals, in order of preference
	port  int
	relay bool
	mx    bool // hosts came from DNS: their addresses are checked (unroutable)
}

// destination splits a queued recipient into its RCPT path and the domain
// that decides the route (with a forced ":port" kept).
func destination(rcpt string) (path, domain string, err error) {
	local, dom := envelope.SplitAddress(rcpt)
	if local == "" || dom == "" {
		return "", "", fmt.Errorf("%w: %q has no domain", errUndeliverable, rcpt)
	}
	host := dom
	if h, _, ok := strings.Cut(dom, ":"); ok && !strings.HasPrefix(dom, "[") {
		host = h
	} else if strings.HasPrefix(dom, "[") {
		if i := strings.Index(dom, "]"); i >= 0 {
			host = dom[:i+1]
		}
	}
	if strings.HasSuffix(strings.ToLower(host), ".fidonet") {
		return "", "", fmt.Errorf("%w: %q is FidoNet, not Internet mail", errUndeliverable, rcpt)
	}
	return local + "@" + host, strings.ToLower(dom), nil
}

// route decides the target for a domain: the relay, a forced host:port,
// the local server, or the domain's mail exchangers.
func (s *Sender) route(ctx context.Context, domain string) (target, error) {
	if s.cfg.RelayTx {
		return target{hosts: []string{s.cfg.RelayServer}, port: s.cfg.RelayPort, relay: true}, nil
	}
	host, port := domain, ""
	if strings.HasPrefix(domain, "[") {
		if i := strings.Index(domain, "]"); i >= 0 {
			host = domain[1:i]
			port = strings.TrimPrefix(domain[i+1:], ":")
		}
	} else if h, p, ok := strings.Cut(domain, ":"); ok {
		host, port = h, p
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n <= 0 || n > 65535 {
			return target{}, fmt.Errorf("%w: bad port in %q", errUndeliverable, domain)
		}
		return target{hosts: []string{host}, port: n}, nil
	}
	if ip := net.ParseIP(host); ip != nil {
		return target{hosts: []string{host}, port: s.cfg.MXPort}, nil
	}
	if s.cfg.SMTPPort > 0 && s.isLocal(host) {
		local := s.cfg.OutboundInterface
		if ip := net.ParseIP(local); ip == nil || ip.IsUnspecified() {
			local = "127.0.0.1"
		}
		return target{hosts: []string{local}, port: s.cfg.SMTPPort}, nil
	}
	if s.resErr != nil {
		return target{}, s.resErr
	}
	hosts, err := s.res.LookupMX(ctx, host)
	if err != nil {
		return target{}, err
	}
	return target{hosts: hosts, port: s.cfg.MXPort, mx: true}, nil
}

func (s *Sender) isLocal(host string) bool {
	for _, d := range s.cfg.LocalDomains {
		if strings.EqualFold(d, host) {
			return true
		}
	}
	return false
}

// pending returns the recipients still without a definitive answer.
func pending(rs []*rcptState) []*rcptState {
	var out []*rcptState
	for _, r := range rs {
		if !r.done {
			out = append(out, r)
		}
	}
	return out
}

// deliver makes one attempt at delivering j: on the worker's kept
// connection when it goes to j's destination, then every host of the
// target in turn, every address of each host, until no recipient is left
// without a definitive answer (RFC 5321 §5.1). It fills in the states.
func (s *Sender) deliver(ctx context.Context, w *worker, j *job, rs []*rcptState) {
	if w.conn != nil && w.conn.route == j.domain && s.reuse(ctx, w, j, rs) {
		return
	}
	// A connection elsewhere is closed before another is opened, so a
	// worker never holds two host slots.
	w.drop(s)
	t, err := s.route(ctx, j.domain)
	if err != nil {
		for _, r := range pending(rs) {
			r.setErr("", err)
		}
		return
	}
	for _, host := range t.hosts {
		ips, err := s.hostIPs(ctx, host, t.relay)
		if err != nil {
			for _, r := range pending(rs) {
				r.setErr(host, fmt.Errorf("error resolving hostname %q: %w", host, err))
				r.perm = false
			}
			continue
		}
		for _, ip := range ips {
			if t.mx {
				if err := s.unroutable(j.domain, host, ip); err != nil {
					s.log.Warn("SendMail refused an address found in DNS", "domain", j.domain, "host", host, "ip", ip.String(), "err", err)
					// Permanent only when no usable host has answered
					// or failed: a refused backup MX must not bounce
					// mail that waits for a primary that is down.
					for _, r := range pending(rs) {
						if r.err == "" && r.reply == "" {
							r.setErr(host, err)
						}
					}
					continue
				}
			}
			left := pending(rs)
			if len(left) == 0 {
				return
			}
			s.tryAddr(ctx, w, t, host, ip, j, left)
			if len(pending(rs)) == 0 || ctx.Err() != nil {
				return
			}
		}
	}
}

// hostIPs resolves a host to connect to. The relay is the sysop's own
// choice of host, so it is looked up like any program would (hosts file
// included); mail exchangers are looked up with our DNS client.
func (s *Sender) hostIPs(ctx context.Context, host string, system bool) ([]net.IP, error) {
	if ip := net.ParseIP(strings.Trim(host, "[]")); ip != nil {
		return []net.IP{ip}, nil
	}
	if system || s.res == nil {
		ips, err := net.DefaultResolver.LookupIP(ctx, "ip", host)
		if err != nil {
			return nil, fmt.Errorf("resolving %s: %w", host, err)
		}
		return ips, nil
	}
	return s.res.LookupIP(ctx, host)
}

// tryAddr runs the dialogue with one address over a new connection,
// holding a connection slot for the host. A failed STARTTLS handshake is
// retried once in plain text. A connection whose transaction ended well
// is left to the worker for its next job.
func (s *Sender) tryAddr(ctx context.Context, w *worker, t target, host string, ip net.IP, j *job, rs []*rcptState) {
	key := net.JoinHostPort(strings.ToLower(host), strconv.Itoa(t.port))
	if err := s.hosts.acquire(ctx, key); err != nil {
		for _, r := range rs {
			r.setErr(host, err)
		}
		return
	}
	cn, reusable, err := s.session(ctx, t, host, ip, j, rs, true)
	if errors.Is(err, errTLS) && ctx.Err() == nil {
		s.log.Warn("SendMail TLS failed, retrying without STARTTLS", "host", host, "ip", ip.String(), "err", err)
		cn, reusable, err = s.session(ctx, t, host, ip, j, rs, false)
	}
	if err != nil {
		s.hosts.release(key)
		s.log.Info("SendMail attempt failed", "host", host, "ip", ip.String(), "err", err)
		for _, r := range rs {
			if !r.done {
				r.setErr(host, err)
			}
		}
		return
	}
	cn.key, cn.route = key, j.domain
	s.keep(ctx, w, cn, reusable)
}

// session opens a connection to ip and runs one transaction for rs on it.
// Replies to RCPT and to the data are recorded per recipient; an error
// means the dialogue broke down (the connection is then closed) and
// applies to every recipient without an answer. Otherwise the open
// connection is returned for keep to decide on, with whether the
// transaction ended in 250; its key and route are the caller's to fill
// in.
func (s *Sender) session(ctx context.Context, t target, host string, ip net.IP, j *job, rs []*rcptState, useTLS bool) (*conn, bool, error) {
	nc, err := dial(ctx, ip, t.port, s.cfg.OutboundInterface, s.cfg.OutboundV6Interface, s.cfg.ConnectTimeout)
	if err != nil {
		return nil, false, err
	}
	// Closing on cancellation unblocks any read or write in progress, also
	// while the connection waits between transactions.
	cn := &conn{host: host, ip: ip, stop: context.AfterFunc(ctx, func() { nc.Close() })}
	cn.c = newClient(nc, host, s.cfg.IOTimeout, s.log, s.cfg.DebugTX, s.cfg.DebugRX)
	err = s.ready(cn.c, t, host, useTLS)
	reusable := false
	if err == nil {
		reusable, err = s.transaction(cn.c, j, rs, false)
	}
	if err != nil {
		cn.stop()
		_ = cn.c.close()
		return nil, false, err
	}
	return cn, reusable, nil
}

// ready takes a new connection from the greeting to where MAIL may be
// sent: EHLO, STARTTLS when offered and wanted, AUTH for the relay.
func (s *Sender) ready(c *client, t target, host string, useTLS bool) error {
	if err := c.greet(s.cfg.HostName); err != nil {
		return err
	}
	if useTLS && !s.cfg.DisableTLS && c.has("STARTTLS") {
		if err := c.startTLS(s.tlsConfig(host), s.cfg.HostName, s.cfg.IOTimeout); err != nil {
			return err
		}
	}
	if !t.relay {
		return nil
	}
	sc, err := saslClient(s.cfg.RelayAuth, s.cfg.RelayUsername, s.cfg.RelayPassword)
	if err != nil || sc == nil {
		return err
	}
	// The relay password goes only over TLS (or to a relay on this host):
	// anyone on the path could otherwise strip STARTTLS and read it. The
	// mail waits instead, with an error the sysop sees in `queue list`.
	if !c.tls && !s.cfg.ClearRelayAuth(c.raw.RemoteAddr()) {
		return fmt.Errorf("%w: %s offers no TLS; not sending the relay password in clear", errRelayNoTLS, host)
	}
	return c.auth(sc)
}

// errRelayNoTLS is a temporary failure: the relay would get the password
// without encryption.
var errRelayNoTLS = errors.New("relay without TLS")

// isLoopback is the default Config.ClearRelayAuth: a relay on this host
// (a local tunnel, say) may get the password without TLS.
func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

func (s *Sender) tlsConfig(host string) *tls.Config {
	var cfg *tls.Config
	if s.cfg.TLSConfig != nil {
		cfg = s.cfg.TLSConfig.Clone()
	} else {
		// Opportunistic TLS (RFC 7435): encryption without authentication
		// beats plain text, and MX certificates are often self-signed.
		cfg = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // see above
	}
	if cfg.ServerName == "" && net.ParseIP(host) == nil {
		cfg.ServerName = host
	}
	return cfg
}
