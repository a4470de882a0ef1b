package sendmail

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// DNS answers that make delivery to a domain impossible. They are
// permanent failures: the sender gets a bounce at once.
var (
	ErrNoDomain   = errors.New("domain does not exist")
	ErrNullMX     = errors.New("domain accepts no mail (null MX)")
	ErrNoMailHost = errors.New("domain has no MX, A or AAAA record")
)

// Resolver looks up mail exchangers and their addresses with its own DNS
// client, so the server, the transport and the answers are under our
// control rather than the system resolver's.
type Resolver struct {
	servers []string // host:port, tried in order
	tcp     bool
	timeout time.Duration
}

// NewResolver returns a Resolver that asks server ("" or "<auto>" for the
// nameservers in resolvConf, else "host" or "host:port"), over TCP when tcp
// is set. resolvConf defaults to /etc/resolv.conf.
func NewResolver(server string, tcp bool, resolvConf string) (*Resolver, error) {
	r := &Resolver{tcp: tcp, timeout: 10 * time.Second}
	server = strings.TrimSpace(server)
	if server == "" || strings.EqualFold(server, "<auto>") {
		if resolvConf == "" {
			resolvConf = "/etc/resolv.conf"
		}
		cc, err := dns.ClientConfigFromFile(resolvConf)
		if err != nil {
			return nil, fmt.Errorf("reading nameservers: %w", err)
		}
		for _, s := range cc.Servers {
			r.servers = append(r.servers, net.JoinHostPort(s, cc.Port))
		}
		if len(r.servers) == 0 {
			return nil, fmt.Errorf("no nameserver in %s", resolvConf)
		}
		return r, nil
	}
	r.servers = []string{serverAddr(server)}
	return r, nil
}

// serverAddr adds port 53 to a DNS server address that has none.
func serverAddr(s string) string {
	if _, _, err := net.SplitHostPort(s); err == nil {
		return s
	}
	return net.JoinHostPort(strings.Trim(s, "[]"), "53")
}

// exchange sends one query, retrying a truncated UDP answer over TCP and
// moving to the next server on network errors and SERVFAIL.
func (r *Resolver) exchange(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), qtype)
	q.RecursionDesired = true
	// A larger UDP buffer avoids most truncation of long MX sets.
	q.SetEdns0(4096, false)
	var lastErr error
	for _, srv := range r.servers {
		network := "udp"
		if r.tcp {
			network = "tcp"
		}
		c := &dns.Client{Net: network, Timeout: r.timeout}
		m, _, err := c.ExchangeContext(ctx, q, srv)
		if err == nil && m.Truncated && network == "udp" {
			c.Net = "tcp"
			m, _, err = c.ExchangeContext(ctx, q, srv)
		}
		if err != nil {
			lastErr = fmt.Errorf("querying %s: %w", srv, err)
			continue
		}
		if m.Rcode == dns.RcodeServerFailure {
			lastErr = fmt.Errorf("querying %s: server failure", srv)
			continue
		}
		return m, nil
	}
	return nil, lastErr
}

// LookupMX returns the hosts that receive mail for domain, most preferred
// first, with equal preferences in random order (RFC 5321 §5.1). A domain
// without MX records but with an address is its own mail host (implicit
// MX). NXDOMAIN gives ErrNoDomain, a null MX (RFC 7505) ErrNullMX.
func (r *Resolver) LookupMX(ctx context.Context, domain string) ([]string, error) {
	m, err := r.exchange(ctx, domain, dns.TypeMX)
	if err != nil {
		return nil, fmt.Errorf("MX lookup for %s: %w", domain, err)
	}
	switch m.Rcode {
	case dns.RcodeSuccess:
	case dns.RcodeNameError:
		return nil, fmt.Errorf("MX lookup for %s: %w", domain, ErrNoDomain)
	default:
		return nil, fmt.Errorf("MX lookup for %s: %s", domain, dns.RcodeToString[m.Rcode])
	}
	var mxs []*dns.MX
	for _, rr := range m.Answer {
		if mx, ok := rr.(*dns.MX); ok {
			mxs = append(mxs, mx)
		}
	}
	if len(mxs) == 1 && mxs[0].Mx == "." {
		return nil, fmt.Errorf("%s: %w", domain, ErrNullMX)
	}
	if len(mxs) == 0 {
		ips, err := r.LookupIP(ctx, domain)
		if err != nil {
			if errors.Is(err, ErrNoDomain) {
				err = ErrNoMailHost
			}
			return nil, fmt.Errorf("%s: %w", domain, err)
		}
		if len(ips) == 0 {
			return nil, fmt.Errorf("%s: %w", domain, ErrNoMailHost)
		}
		return []string{domain}, nil
	}
	// Shuffle first, then sort stably, so equal preferences stay shuffled.
	rand.Shuffle(len(mxs), func(i, j int) { mxs[i], mxs[j] = mxs[j], mxs[i] })
	slices.SortStableFunc(mxs, func(a, b *dns.MX) int { return cmp.Compare(a.Preference, b.Preference) })
	hosts := make([]string, 0, len(mxs))
	for _, mx := range mxs {
		if mx.Mx == "." {
			continue
		}
		hosts = append(hosts, strings.TrimSuffix(mx.Mx, "."))
	}
	return hosts, nil
}

// LookupIP returns host's IPv4 addresses followed by its IPv6 ones. An IP
// literal is returned as is. A name with neither gives ErrNoDomain.
func (r *Resolver) LookupIP(ctx context.Context, host string) ([]net.IP, error) {
	if ip := net.ParseIP(strings.Trim(host, "[]")); ip != nil {
		return []net.IP{ip}, nil
	}
	var ips []net.IP
	var errs []error
	for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
		m, err := r.exchange(ctx, host, qt)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError {
			errs = append(errs, fmt.Errorf("%s", dns.RcodeToString[m.Rcode]))
			continue
		}
		for _, rr := range m.Answer {
			switch a := rr.(type) {
			case *dns.A:
				ips = append(ips, a.A)
			case *dns.AAAA:
				ips = append(ips, a.AAAA)
			}
		}
	}
	if len(ips) > 0 {
		return ips, nil
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("resolving %s: %w", host, errors.Join(errs...))
	}
	return nil, fmt.Errorf("resolving %s: %w", host, ErrNoDomain)
}
