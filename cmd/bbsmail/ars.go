package main

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/bbsmail/bbsmail/ars"
	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/store"
)

// arsSubject describes a user (the zero User for nobody) and the client
// connection for an access requirement string.
func arsSubject(u store.User, c envelope.Client) ars.Subject {
	s := ars.Subject{
		Number:   u.Number,
		Alias:    u.Alias,
		Level:    u.Level,
		Flags:    [4]string{u.Flags1},
		Deleted:  u.Deleted,
		Inactive: u.Inactive,
		Host:     c.Host,
		Protocol: c.Protocol,
	}
	for _, f := range []struct {
		set    bool
		letter string
		to     *string
	}{
		{u.ExemptW, "W", &s.Exempt}, {u.ExemptM, "M", &s.Exempt},
		{u.RestrictI, "I", &s.Restrict}, {u.RestrictM, "M", &s.Restrict}, {u.RestrictG, "G", &s.Restrict},
	} {
		if f.set {
			*f.to += f.letter
		}
	}
	if ip, err := netip.ParseAddr(c.IP); err == nil {
		s.IP = ip.Unmap()
	}
	return s
}

// loginAllowed checks [Mail] LoginRequirements for a user whose password
// was right. A refusal is a failed login like a wrong password, so the
// client learns nothing more, and the reason goes to the log through the
// wrapped error.
func loginAllowed(ctx context.Context, req *ars.Expr, u store.User) error {
	if req == nil {
		return nil
	}
	c, _ := envelope.ClientFrom(ctx)
	if req.Eval(arsSubject(u, c)) {
		return nil
	}
	return fmt.Errorf("%w: %s does not meet LoginRequirements (%s)", errBadLogin, u.Alias, req.Source())
}
