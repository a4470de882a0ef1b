package dnsbl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// DefaultTimeout bounds each query when New is given no timeout.
const DefaultTimeout = 5 * time.Second

// resolvConf is where the system's name servers are listed.
const resolvConf = "/etc/resolv.conf"

// List is one DNS blacklist: a line of dns_blacklist.cfg.
type List struct {
	// Zone is the list's DNS zone, such as "zen.spamhaus.org".
	Zone string
	// Line is the whole configuration line, zone and note, which replies
	// and logs quote so the sysop sees which entry refused a client.
	Line string
}

// Result is the outcome of a Check.
type Result struct {
	// Listed reports a listing; the other fields are empty without one.
	Listed bool
	// List is the list that holds the address.
	List List
	// Answer is the A record the list answered, such as "127.0.0.2".
	Answer string
	// Reason is the list's TXT record for the address (its strings
	// joined), or "" if it has none.
	Reason string
}

// Resolver queries DNS blacklists through one name server. It is safe for
// concurrent use.
type Resolver struct {
	server  string
	initErr error // why no server could be chosen
	client  *dns.Client
	tcp     *dns.Client // for answers truncated over UDP
	// Observer, when set before the Resolver is used, hears of each
	// list's lookup (the wiring counts them for the metrics endpoint).
	Observer Observer
}

// Observer hears of lookups. Lookup must be quick and safe for
// concurrent use.
type Observer interface {
	// Lookup reports one list's A query for an address: the zone, the
	// result (ResultListed, ResultNotListed or ResultError) and how long
	// the query took (the TXT query for a listing's reason is not
	// counted).
	Lookup(zone, result string, took time.Duration)
}

// The results an Observer hears.
const (
	ResultListed    = "listed"
	ResultNotListed = "not_listed"
	ResultError     = "error"
)

// New returns a Resolver that asks server ("host:port", or "host" for port
// 53). A blank server or "<auto>" means the first name server of
// /etc/resolv.conf. With tcp set every query uses TCP (USE_TCP_DNS); over
// UDP a truncated answer is asked again over TCP. timeout bounds each
// exchange; 0 means DefaultTimeout.
func New(server string, tcp bool, timeout time.Duration) *Resolver {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	r := &Resolver{
		client: &dns.Client{Net: "udp", Timeout: timeout},
		tcp:    &dns.Client{Net: "tcp", Timeout: timeout},
	}
	if tcp {
		r.client = r.tcp
	}
	r.server, r.initErr = serverAddr(server)
	return r
}

// serverAddr turns the configured server into "host:port".
func serverAddr(server string) (string, error) {
	server = strings.TrimSpace(server)
	if server == "" || strings.EqualFold(server, "<auto>") {
		cfg, err := dns.ClientConfigFromFile(resolvConf)
		if err != nil {
			return "", fmt.Errorf("dnsbl: no name server: %w", err)
		}
		if len(cfg.Servers) == 0 {
			return "", fmt.Errorf("dnsbl: no name server in %s", resolvConf)
		}
		return net.JoinHostPort(cfg.Servers[0], cfg.Port), nil
	}
	if _, _, err := net.SplitHostPort(server); err == nil {
		return server, nil
	}
	return net.JoinHostPort(strings.Trim(server, "[]"), "53"), nil
}

// Server is the "host:port" the Resolver asks, or "" if none was found.
func (r *Resolver) Server() string { return r.server }

// Check looks ip up in lists, in order, and stops at the first listing.
//
// A list that could not be asked (a timeout, SERVFAIL) or that answered
// something other than 127.0.0.x is skipped and reported in the returned
// error, which joins one error per such list; the Result is valid either
// way, so a caller logs the error and still acts on a listing. An ip that
// does not parse is an error with no lookups.
func (r *Resolver) Check(ctx context.Context, ip string, lists []List) (Result, error) {
	if r.initErr != nil {
		return Result{}, r.initErr
	}
	rev, err := ReverseName(ip)
	if err != nil {
		return Result{}, err
	}
	var errs []error
	for _, l := range lists {
		zone := strings.Trim(strings.TrimSpace(l.Zone), ".")
		if zone == "" {
			continue
		}
		name := rev + "." + dns.Fqdn(zone)
		start := time.Now()
		answer, err := r.lookupA(ctx, name)
		r.observe(zone, answer, err, time.Since(start))
		if err != nil {
			errs = append(errs, fmt.Errorf("dnsbl %s: %w", zone, err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		if answer == "" {
			continue
		}
		res := Result{Listed: true, List: l, Answer: answer}
		res.Reason, err = r.lookupTXT(ctx, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("dnsbl %s: reason: %w", zone, err))
		}
		return res, errors.Join(errs...)
	}
	return Result{}, errors.Join(errs...)
}

func (r *Resolver) observe(zone, answer string, err error, took time.Duration) {
	if r.Observer == nil {
		return
	}
	result := ResultNotListed
	switch {
	case err != nil:
		result = ResultError
	case answer != "":
		result = ResultListed
	}
	r.Observer.Lookup(zone, result, took)
}

// ErrBadAnswer reports a list that answered something other than a
// listing: a 127.255.255.x error code, or an address outside 127.0.0.0/24.
var ErrBadAnswer = errors.New("answer is not a listing")

// lookupA returns the listing answer for name, or "" when the name does
// not exist or has no A record.
func (r *Resolver) lookupA(ctx context.Context, name string) (string, error) {
	resp, err := r.exchange(ctx, name, dns.TypeA)
	if err != nil {
		return "", err
	}
	var bad []string
	for _, rr := range resp.Answer {
		a, ok := rr.(*dns.A)
		if !ok {
			continue
		}
		addr, ok := netip.AddrFromSlice(a.A)
		if !ok {
			continue
		}
		addr = addr.Unmap()
		if b := addr.As4(); addr.Is4() && b[0] == 127 && b[1] == 0 && b[2] == 0 {
			return addr.String(), nil
		}
		bad = append(bad, addr.String())
	}
	if len(bad) > 0 {
		return "", fmt.Errorf("%s = %s: %w", name, strings.Join(bad, ", "), ErrBadAnswer)
	}
	return "", nil
}

// lookupTXT returns the TXT strings of name, records separated by "; ".
func (r *Resolver) lookupTXT(ctx context.Context, name string) (string, error) {
	resp, err := r.exchange(ctx, name, dns.TypeTXT)
	if err != nil {
		return "", err
	}
	var parts []string
	for _, rr := range resp.Answer {
		if t, ok := rr.(*dns.TXT); ok {
			parts = append(parts, strings.Join(t.Txt, ""))
		}
	}
	return strings.Join(parts, "; "), nil
}

// exchange asks one question. NXDOMAIN is a normal "no" and comes back as
// an empty answer; any other failure code is an error.
func (r *Resolver) exchange(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = true
	m.SetEdns0(4096, false)
	resp, _, err := r.client.ExchangeContext(ctx, m, r.server)
	if err == nil && resp.Truncated && r.client != r.tcp {
		resp, _, err = r.tcp.ExchangeContext(ctx, m, r.server)
	}
	if err != nil {
		return nil, fmt.Errorf("query %s %s: %w", name, dns.TypeToString[qtype], err)
	}
	switch resp.Rcode {
	case dns.RcodeSuccess:
		return resp, nil
	case dns.RcodeNameError:
		return &dns.Msg{}, nil
	}
	return nil, fmt.Errorf("query %s %s: %s", name, dns.TypeToString[qtype], dns.RcodeToString[resp.Rcode])
}

// ReverseName is ip's labels in the order a DNS blacklist wants them,
// without a zone: "4.3.2.1" for 1.2.3.4, and 32 nibbles for an IPv6
// address (RFC 5782 §2.4). An IPv4-mapped IPv6 address gives the IPv4
// form, so dual-stack listeners check the address the client really has.
func ReverseName(ip string) (string, error) {
	addr, err := netip.ParseAddr(strings.Trim(ip, "[]"))
	if err != nil {
		return "", fmt.Errorf("dnsbl: bad address %q: %w", ip, err)
	}
	addr = addr.Unmap().WithZone("")
	var labels []string
	if addr.Is4() {
		b := addr.As4()
		for i := len(b) - 1; i >= 0; i-- {
			labels = append(labels, strconv.Itoa(int(b[i])))
		}
		return strings.Join(labels, "."), nil
	}
	const hex = "0123456789abcdef"
	b := addr.As16()
	for i := len(b) - 1; i >= 0; i-- {
		labels = append(labels, string(hex[b[i]&0xf]), string(hex[b[i]>>4]))
	}
	return strings.Join(labels, "."), nil
}
