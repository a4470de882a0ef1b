package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"

	"github.com/bbsmail/bbsmail/ars"
	"github.com/bbsmail/bbsmail/ctrl"
	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/mailproc"
	"github.com/bbsmail/bbsmail/route"
	"github.com/bbsmail/bbsmail/smtpd"
	"github.com/bbsmail/bbsmail/store"
)

// processors holds the mail processors loaded from mailproc.ini for the
// SMTP server (DATA) and the router (RCPT-time To matching). A reload
// swaps the set; a transaction may see the old set at RCPT and the new one
// at DATA, which only means a recipient captured for a processor that is
// gone is reported as unusable.
type processors struct {
	cur atomic.Pointer[mailproc.Set]
}

var (
	_ smtpd.Processors = (*processors)(nil)
	_ route.Processors = (*processors)(nil)
)

// mailprocConfig describes the BBS tree and its users to package mailproc.
// With a nil db (bbsmail check, which only loads the processors) no user
// is known and no access requirement is met; they are still compiled, so
// a broken one fails the same way.
func mailprocConfig(cfg *ctrl.Config, db *store.DB, log *slog.Logger) mailproc.Config {
	host, _ := os.Hostname()
	knownUser := func(n uint32) bool {
		if db == nil {
			return false
		}
		u, err := db.User(n)
		return err == nil && !u.Deleted
	}
	return mailproc.Config{
		CtrlDir: cfg.Paths.Ctrl, TempDir: cfg.Paths.Temp, DataDir: cfg.Paths.Data,
		TextDir: cfg.Paths.Text, ExecDir: cfg.Paths.Exec, ModsDir: cfg.Paths.Mods,
		FQDN: cfg.Host(), Host: host,
		System: mailproc.System{
			Name: cfg.System.Name, Operator: cfg.System.Operator, QWKID: cfg.System.QWKID,
			InetAddr: cfg.System.InetAddr, Version: version,
		},
		MaxRecipients: cfg.Mail.MaxRecipients,
		// Scripts reach the BBS directories, but not the server's secrets
		// and state kept there.
		Private:     []string{mailbasePath(cfg), secretKeyPath(cfg), cfg.Paths.SSLKey, socketPath(cfg)},
		ARS:         processorARS(db),
		KnownUser:   knownUser,
		KeepMessage: cfg.Mail.Options.Has(ctrl.DebugRxBody),
		Logger:      log,
	}
}

// processorARS compiles a processor's AccessRequirements into a check of
// the authenticated user (nobody, user 0, when unauthenticated) and the
// client.
func processorARS(db *store.DB) func(string) (func(mailproc.Access) bool, error) {
	return func(s string) (func(mailproc.Access) bool, error) {
		e, err := ars.Parse(s)
		if err != nil {
			return nil, err
		}
		return func(a mailproc.Access) bool {
			var u store.User
			if a.User != 0 {
				if db == nil {
					return false
				}
				var err error
				if u, err = db.User(a.User); err != nil {
					return false
				}
			}
			host := a.Host
			if host == "<no name>" {
				host = ""
			}
			return e.Eval(arsSubject(u, envelope.Client{IP: a.IP, Host: host, Protocol: a.Protocol}))
		}, nil
	}
}

// loadProcessors loads mailproc.ini (or a host-specific variant), logging
// its warnings.
func loadProcessors(cfg *ctrl.Config, db *store.DB, log *slog.Logger) (*mailproc.Set, error) {
	set, warnings, err := mailproc.Load(mailprocConfig(cfg, db, log))
	if err != nil {
		return nil, err
	}
	for _, w := range warnings {
		log.Warn("mail processors: " + w.String())
	}
	if set.Len() > 0 {
		log.Info(fmt.Sprintf("%d mail processors from %s", set.Len(), set.File()))
	}
	return set, nil
}

func (p *processors) MatchRcpt(name, addr string, q envelope.RcptQuery) ([]string, string) {
	return p.cur.Load().MatchRcpt(name, addr, q)
}

// Process runs the processors and turns their verdict into the SMTP
// server's terms.
func (p *processors) Process(ctx context.Context, in *smtpd.ProcessInput) (*smtpd.ProcessResult, error) {
	out, err := p.cur.Load().Run(ctx, mailproc.Input{
		Env: in.Env, Text: in.Text, SenderName: in.SenderName, SenderAddr: in.SenderAddr,
		LastRcpt: in.LastRcpt, Listed: in.Listed, Bait: in.Bait, Logger: in.Log,
	})
	if err != nil {
		return nil, err
	}
	// mailproc has logged failures and skipped recipients (out.Failed,
	// out.Unusable) through in.Log already.
	res := &smtpd.ProcessResult{Text: out.Text, Rcpts: out.Rcpts, Consumed: out.Consumed, Reason: out.Reason}
	if out.By != "" {
		res.Reason = fmt.Sprintf("%s (%s)", res.Reason, out.By)
	}
	if r := out.Reject; r != nil {
		res.Reject = &envelope.Reply{Code: r.Code, Enhanced: r.Enhanced, Text: strings.Join(r.Text, "\n")}
	}
	return res, nil
}
