package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

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

// find resolves a login id as Synchronet does: a user number when the
// system allows login by number, else an alias (ignoring punctuation and
// case), else a real name when allowed.
func (a auth) find(login string) (store.User, error) {
	cfg := a.sys()
	var u store.User
	err := store.ErrNotFound
	if cfg.System.LoginNumber() {
		if n, perr := strconv.ParseUint(login, 10, 32); perr == nil {
			u, err = a.db.User(uint32(n))
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		u, err = a.db.UserByAlias(login)
	}
	if errors.Is(err, store.ErrNotFound) && cfg.System.LoginRealName() {
		u, err = a.db.UserByRealName(login)
	}
	// Every way of finding the user ends at this check: a deleted or
	// inactive account never logs in, whatever the login id was.
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return u, errBadLogin
		}
		return u, err
	}
	if u.Deleted || u.Inactive {
		return u, errBadLogin
	}
	return u, nil
}

// temporary turns a mailbase failure during a login into a 454 reply, so
// the client retries later instead of being told its password is wrong.
// Wrong credentials stay errBadLogin.
func temporary(err error) error {
	if err == nil || errors.Is(err, errBadLogin) {
		return err
	}
	return &envelope.Reply{Code: 454, Enhanced: "4.7.0", Text: "Temporary authentication failure, try again later", Err: err}
}

// Authenticate checks a password. Every way to fail costs one argon2
// verification, as a wrong password for a real user does: an unknown
// name, a deleted or inactive account answered without one would be
// answered measurably sooner, telling a guesser which names exist.
func (a auth) Authenticate(ctx context.Context, login, password string) (envelope.Identity, error) {
	u, err := a.find(login)
	if err != nil {
		if derr := a.db.DummyCheck(ctx, password); derr != nil && errors.Is(err, errBadLogin) {
			err = derr
		}
		return envelope.Identity{}, temporary(err)
	}
	ok, err := a.db.CheckPassword(ctx, u.Number, password)
	if err != nil {
		return envelope.Identity{}, temporary(err)
	}
	if !ok {
		return envelope.Identity{}, errBadLogin
	}
	if err := loginAllowed(ctx, a.sys().Mail.LoginARS, u); err != nil {
		return envelope.Identity{}, err
	}
	return u.Identity(), nil
}

// Secret answers CRAM-MD5 and APOP. LoginRequirements is checked before
// the digest is: a refused user fails whatever the digest, as with a
// wrong one.
func (a auth) Secret(ctx context.Context, login string) (envelope.Identity, string, error) {
	u, err := a.find(login)
	if err != nil {
		return envelope.Identity{}, "", temporary(err)
	}
	if err := loginAllowed(ctx, a.sys().Mail.LoginARS, u); err != nil {
		return envelope.Identity{}, "", err
	}
	s, err := a.db.Secret(u.Number)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return envelope.Identity{}, "", errBadLogin
		}
		return envelope.Identity{}, "", temporary(err)
	}
	return u.Identity(), s, nil
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
	return route.User{
		Number: u.Number, Alias: u.Alias, RealName: u.RealName, NetMail: u.NetMail,
		Deleted: u.Deleted, Inactive: u.Inactive, ExemptW: u.ExemptW, Forward: u.Forward,
		RestrictI: u.RestrictI, RestrictM: u.RestrictM, RestrictG: u.RestrictG,
	}, nil
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
}

var (
	_ smtpd.Maildrop    = (*maildrop)(nil)
	_ sendmail.Maildrop = (*maildrop)(nil)
)

func (m *maildrop) Deliver(_ context.Context, env *envelope.Envelope, msg []byte) error {
	m.signRemote(env, msg)
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

func (m mailbox) Read(_ context.Context, user uint32, id uint64) ([]byte, error) {
	text, _, err := m.db.ReadMessage(user, id)
	return text, err
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
