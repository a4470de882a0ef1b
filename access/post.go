package access

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/bbsmail/bbsmail/ars"
	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/route"
)

// Subject describes a user (the zero User for nobody) and the client
// connection for an access requirement string.
func Subject(u route.User, c envelope.Client) ars.Subject {
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

// Sub is a sub-board as posting by mail sees it.
type Sub struct {
	Code, Name string
	// Requirements are the access requirement strings a poster must meet
	// (the group's and the sub-board's access strings and its post_ars);
	// empty ones allow everybody.
	Requirements []string
}

// subRules are one sub-board's parsed requirements. bad is set when one
// of them does not parse (ctrl warned at load): nobody may post then,
// rather than everybody.
type subRules struct {
	name  string
	rules []*ars.Expr
	bad   bool
}

// MayPost decides who may post on a sub-board by mail, as Synchronet's
// user_can_post does for the sender: the authenticated user, or nobody
// (user 0) for an unauthenticated one, who is also refused when the
// client is DNS-blacklisted. Synchronet's posts-per-day limit and the P
// and N restrictions are not checked: the mailbase keeps neither. The
// result is route.Config.MayPost.
func MayPost(dir route.Directory, subs []Sub) func(context.Context, string, envelope.RcptQuery) error {
	rules := make(map[string]subRules, len(subs))
	for _, s := range subs {
		r := subRules{name: s.Name}
		for _, src := range s.Requirements {
			e, err := ars.Parse(src)
			r.bad = r.bad || err != nil
			r.rules = append(r.rules, e)
		}
		rules[strings.ToLower(s.Code)] = r
	}
	return func(ctx context.Context, code string, q envelope.RcptQuery) error {
		r := rules[strings.ToLower(code)]
		var u route.User
		if q.Auth != nil {
			var err error
			if u, err = dir.UserByNumber(ctx, q.Auth.User); err != nil {
				return fmt.Errorf("posting rights of user #%d: %w", q.Auth.User, err)
			}
		} else if q.Listed {
			return &envelope.Reply{Code: 550, Enhanced: "5.7.1", Text: "Insufficient access: DNS-blacklisted", Err: envelope.ErrNoAccess}
		}
		prot := "SMTP"
		if q.TLS {
			prot = "SMTPS"
		}
		subj := Subject(u, envelope.Client{IP: q.ClientIP, Host: q.ClientHost, Protocol: prot})
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
