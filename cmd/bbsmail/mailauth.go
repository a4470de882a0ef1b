package main

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/bbsmail/bbsmail/ctrl"
	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/mailauth"
	"github.com/bbsmail/bbsmail/smtpd"
)

// authCheck adapts package mailauth to smtpd.MailAuth; a reload swaps its
// settings while sessions run.
type authCheck struct{ cur atomic.Pointer[authSettings] }

type authSettings struct {
	on      bool
	host    string // the authserv-id of our Authentication-Results
	checker *mailauth.Checker
	rules   mailauth.Rules
}

var _ smtpd.MailAuth = (*authCheck)(nil)

func newAuthCheck(cfg *ctrl.Config) *authCheck {
	a := &authCheck{}
	a.set(cfg)
	return a
}

// set takes the [Mail] settings of cfg. The lookups go to DNSServer, like
// the DNSBL and MX lookups, so one DNS server answers everything the mail
// server asks.
func (a *authCheck) set(cfg *ctrl.Config) {
	m := cfg.Mail
	spfFail, err := mailauth.ParseAction(m.SPFFail)
	if err != nil { // ctrl validated it; accept is the safe reading
		spfFail = mailauth.Accept
	}
	a.cur.Store(&authSettings{
		on:      m.MailAuthCheck,
		host:    cfg.Host(),
		checker: &mailauth.Checker{Resolver: resolverFor(m.DNSServer), Timeout: m.MailAuthTimeout},
		rules:   mailauth.Rules{DMARCReject: m.DMARCReject, DMARCQuarantine: m.DMARCQuarantine, SPFFail: spfFail},
	})
}

// Check removes Authentication-Results fields that claim to be ours from
// every message, and for unauthenticated clients adds our own and applies
// the rules.
func (a *authCheck) Check(ctx context.Context, in *smtpd.MailAuthInput) smtpd.MailAuthResult {
	c := a.cur.Load()
	text, forged := mailauth.StripForged(in.Text, c.host)
	res := smtpd.MailAuthResult{Text: text}
	var notes []string
	if forged > 0 {
		notes = append(notes, fmt.Sprintf("%d forged Authentication-Results removed", forged))
	}
	if c.on && !in.Authenticated {
		v := c.checker.Check(ctx, mailauth.Input{IP: in.ClientIP, Helo: in.Helo, MailFrom: in.ReversePath, Msg: in.Text})
		res.Field = v.Field(c.host)
		notes = append([]string{v.Summary()}, notes...)
		if !in.Exempt {
			applyDecision(&res, c.rules.Decide(v))
		}
	}
	res.Summary = strings.Join(notes, "; ")
	return res
}

func applyDecision(res *smtpd.MailAuthResult, d mailauth.Decision) {
	res.Reason = d.Reason
	switch d.Action {
	case mailauth.Refuse:
		res.Reject = &envelope.Reply{Code: 550, Enhanced: d.Enhanced, Text: "Message refused: " + d.Reason}
	case mailauth.Tag:
		res.Spam = true
	}
}
