package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

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
		SpamLog: filepath.Join(cfg.Paths.Logs, "spam.log"),
		TextDir: cfg.Paths.Text, ExecDir: cfg.Paths.Exec, ModsDir: cfg.Paths.Mods,
		FQDN: cfg.Host(), Host: host,
		System: mailproc.System{
			Name: cfg.System.Name, Operator: cfg.System.Operator, QWKID: cfg.System.QWKID,
			InetAddr: cfg.System.InetAddr, Version: version,
		},
		MaxRecipients: cfg.Mail.MaxRecipients,
		// Scripts reach the BBS directories, but not the server's secrets
		// and state kept there (sbbs.ini holds RelayPassword).
		Private: []string{mailbasePath(cfg), secretKeyPath(cfg), cfg.Paths.SSLKey, socketPath(cfg),
			filepath.Join(cfg.Paths.Ctrl, "sbbs.ini"), filepath.Join(cfg.Paths.Ctrl, ownKeyName)},
		ARS:         processorARS(db),
		KnownUser:   knownUser,
		KeepMessage: cfg.Mail.Options.Has(ctrl.DebugRxBody),
		Logger:      log,
		User:        processorUser(db),
		LookupIP:    lookupIP(resolverFor(cfg.Mail.DNSServer)),
		Interfaces:  interfaceAddrs(cfg.Mail.Interfaces),
		Subs:        subInfos(cfg.System.Subs),
		JSMaxBytes:  cfg.Mail.JavaScriptMaxBytes,
		JSTimeLimit: time.Duration(cfg.Mail.JavaScriptTimeLimit) * 100 * time.Millisecond,
	}
}

// processorUser describes an authenticated sender to a script's user
// object.
func processorUser(db *store.DB) func(uint32) (mailproc.UserInfo, bool) {
	return func(n uint32) (mailproc.UserInfo, bool) {
		if db == nil {
			return mailproc.UserInfo{}, false
		}
		u, err := db.User(n)
		if err != nil {
			return mailproc.UserInfo{}, false
		}
		s := arsSubject(u, envelope.Client{})
		return mailproc.UserInfo{Number: u.Number, Alias: u.Alias, Name: u.RealName, NetMail: u.NetMail,
			Level: u.Level, Flags1: u.Flags1, Restrictions: s.Restrict, Exemptions: s.Exempt}, true
	}
}

// lookupIP resolves for a script's resolve_ip() through the mail server's
// DNS server.
func lookupIP(r *net.Resolver) func(context.Context, string) ([]string, error) {
	return func(ctx context.Context, host string) ([]string, error) {
		addrs, err := r.LookupHost(ctx, host)
		if err != nil {
			return nil, fmt.Errorf("resolving %s: %w", host, err)
		}
		return addrs, nil
	}
}

// interfaceAddrs strips the ports from the Interface addresses.
func interfaceAddrs(list []string) []string {
	var out []string
	for _, a := range list {
		if h, _, err := net.SplitHostPort(a); err == nil {
			a = h
		}
		out = append(out, a)
	}
	return out
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
func loadProcessors(cfg *ctrl.Config, db *store.DB, log *slog.Logger, wake func()) (*mailproc.Set, error) {
	mc := mailprocConfig(cfg, db, log)
	if db != nil {
		mc.Boards = boards{db: db, wake: wake}
	}
	set, warnings, err := mailproc.Load(mc)
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
		Env: in.Env, Text: in.Text, Prefix: in.Prefix, SenderName: in.SenderName, SenderAddr: in.SenderAddr,
		LastRcpt: in.LastRcpt, Listed: in.Listed, Bait: in.Bait, Logger: in.Log,
	})
	if err != nil {
		return nil, err
	}
	// mailproc has logged failures and skipped recipients (out.Failed,
	// out.Unusable) through in.Log already.
	res := &smtpd.ProcessResult{Text: out.Text, Prefix: out.Prefix, Rcpts: out.Rcpts, Consumed: out.Consumed, Reason: out.Reason}
	if out.By != "" {
		res.Reason = fmt.Sprintf("%s (%s)", res.Reason, out.By)
	}
	res.Reject = out.Reject
	return res, nil
}

// wakeSendMail starts a SendMail scan for mail a script queued.
func (s *server) wakeSendMail() {
	if s.sendMail != nil {
		s.sendMail.wake()
	}
}

func subInfos(subs []ctrl.Sub) []mailproc.SubInfo {
	out := make([]mailproc.SubInfo, len(subs))
	for i, sb := range subs {
		out[i] = mailproc.SubInfo{Code: sb.Code, Name: sb.Name, Description: sb.Description, Group: sb.Group}
	}
	return out
}

// boards is the mailbase as scripts' message bases: sub-board posts, and
// what scripts save (posts, mail for users, Internet mail for SendMail).
type boards struct {
	db   *store.DB
	wake func()
}

var _ mailproc.Boards = boards{}

func (b boards) Posts(code string) ([]uint64, error) {
	posts, err := b.db.SubPosts(code)
	if err != nil {
		return nil, err
	}
	n := make([]uint64, len(posts))
	for i, p := range posts {
		n[i] = p.Number
	}
	return n, nil
}

func (b boards) PostText(code string, n uint64) ([]byte, error) {
	_, text, err := b.db.SubPost(code, n)
	return text, err
}

func (b boards) Deliver(env *envelope.Envelope, text []byte) error {
	return (&maildrop{db: b.db, wake: b.wake}).Deliver(context.Background(), env, text)
}
