package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/bbsmail/bbsmail/access"
	"github.com/bbsmail/bbsmail/ctrl"
	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/pop3d"
	"github.com/bbsmail/bbsmail/route"
	"github.com/bbsmail/bbsmail/sendmail"
	"github.com/bbsmail/bbsmail/smtpd"
	"github.com/bbsmail/bbsmail/store"
)

// The adapters below connect the mailbase to the interfaces the protocol
// packages declare. They are the only place where store and the servers
// meet.

// errBadLogin is what both servers see for any failed login: unknown user,
// wrong password, deleted or inactive account alike, so a client learns
// nothing about which.
var errBadLogin = pop3d.ErrBadLogin

// auth answers logins for SMTP AUTH and POP3 (USER/PASS, APOP).
type auth struct {
	db  *store.DB
	sys func() *ctrl.Config
}

var (
	_ smtpd.Authenticator = auth{}
	_ pop3d.Authenticator = auth{}
)

// logins is the login policy (package access) over the mailbase, with
// the settings in force now.
func (a auth) logins() access.Logins {
	cfg := a.sys()
	return access.Logins{
		Dir:      directory{db: a.db},
		ByNumber: cfg.System.LoginNumber(), ByRealName: cfg.System.LoginRealName(),
		Requirements: cfg.Mail.LoginARS,
		BadLogin:     errBadLogin,
	}
}

// Authenticate checks a password. Every way to fail costs one argon2
// verification, as a wrong password for a real user does: an unknown
// name, a deleted or inactive account answered without one would be
// answered measurably sooner, telling a guesser which names exist.
func (a auth) Authenticate(ctx context.Context, login, password string) (envelope.Identity, error) {
	l := a.logins()
	u, err := l.Find(ctx, login)
	if err != nil {
		if derr := a.db.DummyCheck(ctx, password); derr != nil && errors.Is(err, errBadLogin) {
			err = derr
		}
		return envelope.Identity{}, l.Temporary(err)
	}
	ok, err := a.db.CheckPassword(ctx, u.Number, password)
	if err != nil {
		return envelope.Identity{}, l.Temporary(err)
	}
	if !ok {
		return envelope.Identity{}, errBadLogin
	}
	if err := l.Allowed(ctx, u); err != nil {
		return envelope.Identity{}, err
	}
	return access.Identity(u), nil
}

// Secret answers CRAM-MD5 and APOP. LoginRequirements is checked before
// the digest is: a refused user fails whatever the digest, as with a
// wrong one.
func (a auth) Secret(ctx context.Context, login string) (envelope.Identity, string, error) {
	l := a.logins()
	u, err := l.Find(ctx, login)
	if err != nil {
		return envelope.Identity{}, "", l.Temporary(err)
	}
	if err := l.Allowed(ctx, u); err != nil {
		return envelope.Identity{}, "", err
	}
	s, err := a.db.Secret(u.Number)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return envelope.Identity{}, "", errBadLogin
		}
		return envelope.Identity{}, "", l.Temporary(err)
	}
	return access.Identity(u), s, nil
}

// directory gives the router its view of the users.
type directory struct{ db *store.DB }

var _ route.Directory = directory{}

func routeUser(u store.User, err error) (route.User, error) {
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return route.User{}, route.ErrNoUser
		}
		return route.User{}, err
	}
	return toRouteUser(u), nil
}

func toRouteUser(u store.User) route.User {
	return route.User{
		Number: u.Number, Alias: u.Alias, RealName: u.RealName, NetMail: u.NetMail,
		Level: u.Level, Flags1: u.Flags1,
		Deleted: u.Deleted, Inactive: u.Inactive, ExemptW: u.ExemptW, ExemptM: u.ExemptM, Forward: u.Forward,
		RestrictI: u.RestrictI, RestrictM: u.RestrictM, RestrictG: u.RestrictG,
	}
}

func (d directory) UserByNumber(_ context.Context, n uint32) (route.User, error) {
	return routeUser(d.db.User(n))
}

func (d directory) UserByAlias(_ context.Context, name string) (route.User, error) {
	return routeUser(d.db.UserByAlias(name))
}

func (d directory) UserByRealName(_ context.Context, name string) (route.User, error) {
	return routeUser(d.db.UserByRealName(name))
}

func (d directory) MessageCount(_ context.Context, user uint32) (int, error) {
	return d.db.MessageCount(user)
}

func (d directory) Online(_ context.Context, user uint32) bool {
	u, err := d.db.User(user)
	return err == nil && u.Online
}

// maildrop stores accepted messages and wakes SendMail when some of the
// copies wait in the outbound queue. Copies for the queue are DKIM-signed
// here, once per message, whatever put them there: submissions, forwards,
// bounces and mail processor output all pass through Deliver.
type maildrop struct {
	db   *store.DB
	wake func()
	sign interface {
		Sign(msg []byte) ([]byte, error)
	}
	log *slog.Logger
	// netmail wakes the FidoNet and QWK exporters when netmail was stored.
	netmail func()
	// killRead reports main.ini "Kill Read E-mail" as configured now (a
	// recycle may change it); nil = off.
	killRead func() bool
}

var (
	_ smtpd.Maildrop    = (*maildrop)(nil)
	_ sendmail.Maildrop = (*maildrop)(nil)
)

// Deliver stores a message. A cancelled ctx (a shutdown past its grace
// period) stops a delivery that has not begun; once the mailbase commit
// has begun it finishes, since it is bounded by the disk, not the client.
func (m *maildrop) Deliver(ctx context.Context, env *envelope.Envelope, msg []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("deliver %s: %w", env.ID, err)
	}
	m.signRemote(env, msg)
	if n := dropDuplicateCopies(env); n > 0 && m.log != nil {
		m.log.Debug(fmt.Sprintf("%s: %d duplicate recipients get no second copy", env.ID, n))
	}
	if m.killRead != nil && m.killRead() {
		// As Synchronet's SM_DELREADM: every message stored in a mailbox
		// is marked kill-read, and POP3 deletes it once retrieved.
		env.KillRead = true
	}
	rc, err := m.db.Deliver(env, msg)
	if err != nil {
		return err
	}
	if rc.Remote > 0 && m.wake != nil {
		m.wake()
	}
	if rc.Netmail > 0 && m.netmail != nil {
		m.netmail()
	}
	return nil
}

// dropDuplicateCopies keeps one copy per mailbox, sub-board and remote
// address: a recipient given twice ("alice", "Alice@BBS.EXAMPLE") gets
// the message once, as most MTAs do. It returns how many it dropped.
func dropDuplicateCopies(env *envelope.Envelope) int {
	seen := make(map[string]bool, len(env.Rcpts))
	kept := env.Rcpts[:0:0]
	for _, r := range env.Rcpts {
		var key string
		switch r.Kind {
		case envelope.KindMailbox:
			if r.User != 0 {
				key = fmt.Sprintf("user %d", r.User)
			}
		case envelope.KindSub:
			key = "sub " + strings.ToLower(strings.TrimSpace(r.Sub))
		case envelope.KindRemote:
			// The domain is case-insensitive; the local part is the
			// remote system's business.
			local, domain, _ := strings.Cut(r.NetAddr, "@")
			key = "remote " + local + "@" + strings.ToLower(domain)
		}
		if key != "" && seen[key] {
			continue
		}
		if key != "" {
			seen[key] = true
		}
		kept = append(kept, r)
	}
	n := len(env.Rcpts) - len(kept)
	if n > 0 {
		env.Rcpts = kept
	}
	return n
}

// signRemote adds the DKIM-Signature field to the trace of every copy that
// leaves the system. The trace is each copy's own, so local copies stay as
// they came and the signature is computed once for all remote ones. A
// signing failure leaves the mail unsigned rather than undelivered.
func (m *maildrop) signRemote(env *envelope.Envelope, msg []byte) {
	if m.sign == nil || !slices.ContainsFunc(env.Rcpts, func(r envelope.Rcpt) bool { return r.Kind == envelope.KindRemote }) {
		return
	}
	field, err := m.sign.Sign(msg)
	if err != nil && m.log != nil {
		m.log.Error(fmt.Sprintf("!DKIM: message %s not signed: %v", env.ID, err))
	}
	if len(field) == 0 {
		return
	}
	for i := range env.Rcpts {
		if r := &env.Rcpts[i]; r.Kind == envelope.KindRemote {
			r.Trace = append(r.Trace[:len(r.Trace):len(r.Trace)], field...)
		}
	}
}

// telegrams keeps short messages for BBS users.
type telegrams struct{ db *store.DB }

var _ smtpd.Telegrams = telegrams{}

func (t telegrams) Online(ctx context.Context, user uint32) bool {
	return directory(t).Online(ctx, user)
}

func (t telegrams) SendTelegram(_ context.Context, user uint32, text string) error {
	return t.db.AddTelegram(user, text)
}

// mailbox serves POP3.
type mailbox struct{ db *store.DB }

var _ pop3d.Mailbox = mailbox{}

func (m mailbox) List(_ context.Context, user uint32) ([]pop3d.Message, error) {
	infos, err := m.db.MailboxSizes(user)
	if err != nil {
		return nil, err
	}
	out := make([]pop3d.Message, 0, len(infos))
	for _, i := range infos {
		out = append(out, pop3d.Message{
			ID: i.ID, Size: i.Size,
			Spam:     i.Flags&store.FlagSpam != 0,
			KillRead: i.Flags&store.FlagKillRead != 0,
		})
	}
	return out, nil
}

func (m mailbox) Read(_ context.Context, user uint32, id uint64, buf []byte) ([]byte, error) {
	return m.db.AppendMessage(buf, user, id)
}

func (m mailbox) MarkRead(_ context.Context, user uint32, ids ...uint64) error {
	return m.db.MarkRead(user, ids...)
}

func (m mailbox) Delete(_ context.Context, user uint32, ids ...uint64) error {
	return m.db.DeleteMessages(user, ids...)
}

// queue gives SendMail the outbound queue.
type queue struct{ db *store.DB }

var _ sendmail.Queue = queue{}

func entry(e store.QueueEntry) sendmail.Entry {
	return sendmail.Entry{
		ID: e.ID, ReversePath: e.ReversePath, Rcpt: e.Rcpt, Created: e.Created,
		NextAttempt: e.NextAttempt, Attempts: e.Attempts, LastError: e.LastError,
		InTransit: e.InTransit, LocalSender: e.LocalSender, Subject: e.Subject, Size: e.Size,
	}
}

func (q queue) QueueClaim(now time.Time, max int, includeInTransit bool) ([]sendmail.Entry, error) {
	list, err := q.db.QueueClaim(now, max, includeInTransit)
	if err != nil {
		return nil, err
	}
	out := make([]sendmail.Entry, len(list))
	for i, e := range list {
		out[i] = entry(e)
	}
	return out, nil
}

func (q queue) QueueMessage(id uint64) ([]byte, error) { return q.db.QueueMessage(id) }
func (q queue) QueueDelivered(ids ...uint64) error     { return q.db.QueueDelivered(ids...) }
func (q queue) QueueDefer(id uint64, next time.Time, lastErr string) error {
	return q.db.QueueDefer(id, next, lastErr)
}
func (q queue) QueueFail(id uint64, lastErr string) error { return q.db.QueueFail(id, lastErr) }
func (q queue) NextQueueTime() (time.Time, bool, error)   { return q.db.NextQueueTime() }
