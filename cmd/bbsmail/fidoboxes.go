package main

import (
	"context"
	"fmt"
	"mime"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/bbsmail/bbsmail/ctrl"
	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/ftn"
	"github.com/bbsmail/bbsmail/store"
)

// fidoBoxes stores imported netmail: the addressee is found as sbbsecho
// finds it (a user number, a sysop alias, an alias, a real name), else
// DefaultRecipient, else the sysop (#1). With [Mail] FidoUnknownUser =
// bounce, FidoNet netmail for a name nobody has goes back to its sender
// instead, when the packet came from a session with a password (anyone
// could name any origin otherwise) and fewer than maxBounces went back in
// this pass; the rest goes to the sysop.
type fidoBoxes struct {
	db      *store.DB
	cfg     *ctrl.Config
	bounced *int // bounces stored in this pass; nil: none may be
}

// maxBounces bounds the bounces one inbound pass sends: a packet full of
// netmail to made-up names costs the sysop's uplink no more than this.
const maxBounces = 20

var _ ftn.Mailboxes = fidoBoxes{}

func (f fidoBoxes) Deliver(_ context.Context, in ftn.Incoming) (string, bool, error) {
	if f.mayBounce(in) {
		if _, known := f.match(in.To); !known {
			*f.bounced++
			return f.bounce(in)
		}
	}
	return f.deliver("ftn", in.To, in.Key, in.Message)
}

// mayBounce reports whether in, if nobody here has its name, goes back
// to its sender: never a bounce itself, never one addressed to a name of
// our sysop's (a bounce from a peer that answers ours with another
// subject would come back so), never from an unsecured session.
func (f fidoBoxes) mayBounce(in ftn.Incoming) bool {
	if !f.bounces() || !in.Secure || f.bounced == nil || *f.bounced >= maxBounces || isBounce(in.Subject) {
		return false
	}
	if sysop, err := f.db.User(1); err == nil && strings.EqualFold(strings.TrimSpace(in.To), sysop.Alias) {
		return false
	}
	for _, a := range f.cfg.FidoNet.SysopAliases {
		if strings.EqualFold(a, strings.TrimSpace(in.To)) {
			return false
		}
	}
	return true
}

// deliver stores an imported message once per key for the user called to.
func (f fidoBoxes) deliver(id, to, key string, msg []byte) (string, bool, error) {
	u, err := f.addressee(to)
	if err != nil {
		return "", false, err
	}
	env := &envelope.Envelope{
		ID: id, Received: time.Now(),
		Rcpts: []envelope.Rcpt{{Kind: envelope.KindMailbox, To: u.Alias, User: u.Number}},
	}
	_, dup, err := f.db.DeliverOnce(key, env, msg)
	return u.Alias, dup, err
}

// bounces reports whether unknown names are bounced rather than given to
// the sysop.
func (f fidoBoxes) bounces() bool { return strings.EqualFold(f.cfg.Mail.FidoUnknownUser, "bounce") }

// addressee is the user called name, else DefaultRecipient, else #1.
func (f fidoBoxes) addressee(name string) (store.User, error) {
	if u, ok := f.match(name); ok {
		return u, nil
	}
	if d := f.cfg.FidoNet.DefaultRecipient; d != "" {
		if u, err := f.db.UserByAlias(d); usableUser(u, err) {
			return u, nil
		}
	}
	return f.db.User(1)
}

// match finds the user called name as sbbsecho does: a user number, a
// name in SysopAliasList, an alias, a real name.
func (f fidoBoxes) match(name string) (store.User, bool) {
	name = strings.TrimSpace(name)
	if n, err := strconv.ParseUint(name, 10, 32); err == nil {
		if u, err := f.db.User(uint32(n)); usableUser(u, err) {
			return u, true
		}
	}
	for _, a := range f.cfg.FidoNet.SysopAliases {
		if strings.EqualFold(a, name) {
			u, err := f.db.User(1)
			return u, err == nil
		}
	}
	if u, err := f.db.UserByAlias(name); usableUser(u, err) {
		return u, true
	}
	if u, err := f.db.UserByRealName(name); usableUser(u, err) {
		return u, true
	}
	return store.User{}, false
}

func usableUser(u store.User, err error) bool { return err == nil && !u.Deleted && !u.Inactive }

// fidoUser is route.Config.FidoUser: SMTP mail to one of our own FTN
// addresses goes to the user the tosser would pick; with bounces on, an
// unknown name is refused instead.
func fidoUser(db *store.DB, cfg *ctrl.Config) func(context.Context, string) (uint32, bool, error) {
	return func(_ context.Context, name string) (uint32, bool, error) {
		f := fidoBoxes{db: db, cfg: cfg}
		if u, ok := f.match(name); ok {
			return u.Number, true, nil
		}
		if f.bounces() {
			return 0, false, nil
		}
		u, err := f.addressee(name)
		return u.Number, err == nil, err
	}
}

// bounceSubject starts the subject of a bounce; netmail whose subject
// starts with it is never bounced, so two systems cannot bounce a message
// back and forth.
const bounceSubject = "Unknown user"

func isBounce(subject string) bool {
	return len(subject) >= len(bounceSubject) && strings.EqualFold(subject[:len(bounceSubject)], bounceSubject)
}

// bounce stores, in place of in, a netmail from the sysop back to in's
// sender quoting it; the exporter sends it like any other. It is stored
// under in's key, so a packet tossed twice bounces once.
func (f fidoBoxes) bounce(in ftn.Incoming) (string, bool, error) {
	sysop, err := f.db.User(1)
	if err != nil {
		return "", false, fmt.Errorf("bouncing netmail: the sysop (#1): %w", err)
	}
	from := in.From
	if from == "" {
		from = "Sysop"
	}
	env := &envelope.Envelope{
		ID: "ftn", Received: time.Now(), Auth: &envelope.Identity{User: sysop.Number, Alias: sysop.Alias},
		Rcpts: []envelope.Rcpt{{Kind: envelope.KindFido, To: from, NetType: envelope.NetFido, NetAddr: in.Orig.String()}},
	}
	_, dup, err := f.db.DeliverOnce(in.Key, env, bounceMessage(in, sysop.Alias, f.cfg.Host(), env.Received))
	return fmt.Sprintf("a bounce to %s at %s (no user %q)", from, in.Orig, in.To), dup, err
}

// bounceMessage is the Internet form of the bounce: the exporter turns it
// into netmail from our address (the one in the sender's zone).
func bounceMessage(in ftn.Incoming, sysop, host string, now time.Time) []byte {
	var b strings.Builder
	hdr := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	hdr("From", (&mail.Address{Name: sysop, Address: ftn.LocalPart(sysop) + "@" + host}).String())
	hdr("To", (&mail.Address{Name: in.From, Address: ftn.LocalPart(in.From) + "@" + in.Orig.Domain()}).String())
	hdr("Subject", mime.QEncoding.Encode("utf-8", bounceSubject+": "+in.To))
	hdr("Date", now.Format(time.RFC1123Z))
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=UTF-8")
	hdr("Content-Transfer-Encoding", "8bit")
	b.WriteString("\r\n")
	body := fmt.Sprintf("Your netmail to %q at %s could not be delivered: no user of that name is known here.\n\n"+
		"The original message follows.\n\n From:    %s, %s\n To:      %s, %s\n Subject: %s\n Date:    %s\n\n",
		in.To, in.Dest, in.From, in.Orig, in.To, in.Dest, in.Subject, in.Date.Format(time.RFC1123Z))
	for line := range strings.SplitSeq(strings.TrimRight(in.Body, "\n"), "\n") {
		body += "> " + line + "\n"
	}
	b.WriteString(strings.ReplaceAll(body, "\n", "\r\n"))
	return []byte(b.String())
}
