package mailauth

import (
	"context"
	"errors"
	"strings"

	"github.com/emersion/go-msgauth/dmarc"
	"golang.org/x/net/publicsuffix"
)

// Policy is a DMARC record's requested handling of failing mail.
type Policy = dmarc.Policy

// The DMARC policies (RFC 7489 §6.3 p=).
const (
	PolicyNone       Policy = dmarc.PolicyNone
	PolicyQuarantine Policy = dmarc.PolicyQuarantine
	PolicyReject     Policy = dmarc.PolicyReject
)

// DMARC is the RFC 7489 result for the From domain.
type DMARC struct {
	Result Result
	From   string // the From domain (header.from)
	// Policy is the published policy that applies to From: p=, or sp=
	// when the record is the organizational domain's and has one. Only
	// meaningful when there is a record.
	Policy Policy
	Reason string
}

// checkDMARC evaluates the From domain's policy (RFC 7489 §6.6) on the SPF
// and DKIM results.
func (c *Checker) checkDMARC(ctx context.Context, msg []byte, s SPF, sigs []DKIM) DMARC {
	from := FromDomain(msg)
	if from == "" {
		return DMARC{Result: None, Reason: "no single From domain"}
	}
	d := DMARC{From: from}
	rec, sub, err := c.lookupDMARC(ctx, from)
	switch {
	case errors.Is(err, dmarc.ErrNoPolicy):
		d.Result = None
		return d
	case dmarc.IsTempFail(err):
		d.Result, d.Reason = TempError, reason(err)
		return d
	case err != nil:
		d.Result, d.Reason = PermError, reason(err)
		return d
	}
	d.Policy = rec.Policy
	if sub && rec.SubdomainPolicy != "" {
		d.Policy = rec.SubdomainPolicy
	}
	if s.Result == Pass && aligned(s.Domain, from, rec.SPFAlignment) {
		d.Result = Pass
		return d
	}
	for _, sig := range sigs {
		if sig.Result == Pass && aligned(sig.Domain, from, rec.DKIMAlignment) {
			d.Result = Pass
			return d
		}
	}
	d.Result, d.Reason = Fail, "no aligned SPF or DKIM pass"
	return d
}

// lookupDMARC finds the record for from, else for its organizational
// domain (§6.6.3); sub reports the latter.
func (c *Checker) lookupDMARC(ctx context.Context, from string) (rec *dmarc.Record, sub bool, err error) {
	opts := &dmarc.LookupOptions{LookupTXT: func(name string) ([]string, error) {
		return c.Resolver.LookupTXT(ctx, name)
	}}
	rec, err = dmarc.LookupWithOptions(from, opts)
	if !errors.Is(err, dmarc.ErrNoPolicy) {
		return rec, false, err
	}
	org := orgDomain(from)
	if org == from {
		return nil, false, err
	}
	rec, err = dmarc.LookupWithOptions(org, opts)
	return rec, true, err
}

// aligned reports whether an authenticated domain is aligned with the From
// domain: equal in strict mode, sharing the organizational domain in
// relaxed mode (§3.1), the default.
func aligned(authDomain, from string, mode dmarc.AlignmentMode) bool {
	a, f := strings.ToLower(strings.TrimSuffix(authDomain, ".")), strings.ToLower(from)
	if a == "" {
		return false
	}
	if mode == dmarc.AlignmentStrict {
		return a == f
	}
	return orgDomain(a) == orgDomain(f)
}

// orgDomain is the organizational domain (§3.2): the public suffix plus
// one label, or the name itself when the list does not know it.
func orgDomain(name string) string {
	if d, err := publicsuffix.EffectiveTLDPlusOne(name); err == nil {
		return d
	}
	return name
}
