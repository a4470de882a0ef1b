package main

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/bbsmail/bbsmail/ars"
	"github.com/bbsmail/bbsmail/ctrl"
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

// subRules are the access requirements for posting on one sub-board by
// mail: its group's and its own access strings and its post_ars. bad is
// set when one of them does not parse (ctrl warned at load): nobody may
// post then, rather than everybody.
type subRules struct {
	name  string
	rules []*ars.Expr
	bad   bool
}

// mayPost decides who may post on a sub-board by mail, as Synchronet's
// user_can_post does for the sender: the authenticated user, or nobody
// (user 0) for an unauthenticated one, who is also refused when the
// client is DNS-blacklisted. Synchronet's posts-per-day limit and the P
// and N restrictions are not checked: the mailbase keeps neither.
func mayPost(cfg *ctrl.Config, db *store.DB) func(context.Context, string, envelope.RcptQuery) error {
	groups := map[string]string{}
	for _, g := range cfg.System.Groups {
		groups[strings.ToLower(g.Name)] = g.ARS
	}
	subs := map[string]subRules{}
	for _, s := range cfg.System.Subs {
		r := subRules{name: s.Name}
		for _, src := range []string{groups[strings.ToLower(s.Group)], s.ARS, s.PostARS} {
			e, err := ars.Parse(src)
			r.bad = r.bad || err != nil
			r.rules = append(r.rules, e)
		}
		subs[strings.ToLower(s.Code)] = r
	}
	return func(_ context.Context, code string, q envelope.RcptQuery) error {
		r := subs[strings.ToLower(code)]
		var u store.User
		if q.Auth != nil {
			var err error
			if u, err = db.User(q.Auth.User); err != nil {
				return fmt.Errorf("posting rights of user #%d: %w", q.Auth.User, err)
			}
		} else if q.Listed {
			return &envelope.Reply{Code: 550, Enhanced: "5.7.1", Text: "Insufficient access: DNS-blacklisted", Err: envelope.ErrNoAccess}
		}
		prot := "SMTP"
		if q.TLS {
			prot = "SMTPS"
		}
		subj := arsSubject(u, envelope.Client{IP: q.ClientIP, Host: q.ClientHost, Protocol: prot})
		subj.SubCode = code
		ok := !r.bad
		for _, e := range r.rules {
			ok = ok && e.Eval(subj)
		}
		if !ok {
			return &envelope.Reply{Code: 550, Enhanced: "5.7.1", Text: "Insufficient access: you may not post on " + r.name, Err: envelope.ErrNoAccess}
		}
		return nil
	}
}
