package route

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bbsmail/bbsmail/ctrl/pattern"
	"github.com/bbsmail/bbsmail/envelope"
)

// match is the outcome of looking a name up in the user base.
type match struct {
	user    User
	found   bool
	blocked bool // found, but the address tag is in the user's .smtpblock
}

// local resolves a name to a local user's mailbox (or the user's
// forwarding address) and applies the mailbox checks.
func (r *Resolver) local(ctx context.Context, st *query, name string) (envelope.Rcpt, error) {
	m, err := r.findUser(ctx, name, st.aliased)
	if err != nil {
		return envelope.Rcpt{}, err
	}
	if m.blocked {
		// A blocked tag on a known user is refused even with a DefaultUser:
		// the tag was given out and then withdrawn by its owner.
		return envelope.Rcpt{}, replyBlockedTag(st.fp)
	}
	if !m.found && r.cfg.DefaultUser != "" {
		if m, err = r.defaultUser(ctx); err != nil {
			return envelope.Rcpt{}, err
		}
	}
	if !m.found || m.user.Deleted || m.user.Inactive {
		return envelope.Rcpt{}, replyUnknownUser(st.fp)
	}
	if err := r.checkMailbox(ctx, st, m.user); err != nil {
		return envelope.Rcpt{}, err
	}
	return r.record(st, m.user), nil
}

// findUser looks a name up the way Synchronet does, first hit wins:
// a number produced by alias.cfg; then, with any #tag split off, the sysop
// aliases (with SysopAliases), the alias ignoring punctuation, the sysop's
// name, the real name (with RealNames) and the user number (with
// RxByNumber). A tag listed in the user's .smtpblock blocks the match.
func (r *Resolver) findUser(ctx context.Context, name string, aliased bool) (match, error) {
	if aliased && name != "" && name[0] >= '0' && name[0] <= '9' {
		n, ok := leadingNumber(name)
		if !ok || n == 0 {
			return match{}, nil
		}
		u, found, err := r.byNumber(ctx, n)
		if err != nil || !found || u.Deleted {
			return match{}, err
		}
		return match{user: u, found: true}, nil
	}
	base, tag, _ := strings.Cut(name, "#")
	u, found, err := r.findByName(ctx, base)
	if err != nil || !found {
		return match{}, err
	}
	if tag != "" {
		blocked, err := r.tagBlocked(u.Number, tag)
		if err != nil {
			return match{}, err
		}
		if blocked {
			return match{user: u, found: true, blocked: true}, nil
		}
	}
	return match{user: u, found: true}, nil
}

// findByName is findUser's name steps, without the tag.
func (r *Resolver) findByName(ctx context.Context, name string) (User, bool, error) {
	if name == "" {
		return User{}, false, nil
	}
	if r.cfg.SysopAliases && r.isSysopAlias(name) {
		return r.byNumber(ctx, 1)
	}
	u, found, err := r.lookup(ctx, r.dir.UserByAlias, name)
	if err != nil || found {
		return u, found, err
	}
	spaced := strings.ReplaceAll(name, ".", " ")
	if r.cfg.SysopName != "" && (equalFold(name, r.cfg.SysopName) || equalFold(spaced, r.cfg.SysopName)) {
		return r.byNumber(ctx, 1)
	}
	if r.cfg.RealNames {
		for _, n := range []string{name, spaced} {
			u, found, err := r.lookup(ctx, r.dir.UserByRealName, n)
			if err != nil || found {
				return u, found, err
			}
		}
	}
	if r.cfg.RxByNumber && isDigits(name) {
		if n, ok := leadingNumber(name); ok && n != 0 {
			u, found, err := r.byNumber(ctx, n)
			if err != nil || !found || u.Deleted {
				return User{}, false, err
			}
			return u, true, nil
		}
	}
	return User{}, false, nil
}

func (r *Resolver) isSysopAlias(name string) bool {
	return equalFold(name, "sysop") || equalFold(name, "postmaster") ||
		(r.cfg.QWKID != "" && equalFold(name, r.cfg.QWKID))
}

// defaultUser resolves DefaultUser: an alias, or a sysop alias whatever
// SysopAliases says, as Synchronet does.
func (r *Resolver) defaultUser(ctx context.Context) (match, error) {
	name := r.cfg.DefaultUser
	var (
		u     User
		found bool
		err   error
	)
	if r.isSysopAlias(name) {
		u, found, err = r.byNumber(ctx, 1)
	} else {
		u, found, err = r.lookup(ctx, r.dir.UserByAlias, name)
	}
	return match{user: u, found: found}, err
}

// lookup calls a Directory name lookup, turning ErrNoUser and deleted users
// into "not found".
func (r *Resolver) lookup(ctx context.Context, fn func(context.Context, string) (User, error), name string) (User, bool, error) {
	u, err := fn(ctx, name)
	if errors.Is(err, ErrNoUser) {
		return User{}, false, nil
	}
	if err != nil {
		return User{}, false, fmt.Errorf("route: looking up user %q: %w", name, err)
	}
	return u, !u.Deleted, nil
}

// byNumber fetches user n; a deleted user is returned (and found) so the
// caller can refuse it as Synchronet does.
func (r *Resolver) byNumber(ctx context.Context, n uint32) (User, bool, error) {
	u, err := r.dir.UserByNumber(ctx, n)
	if errors.Is(err, ErrNoUser) {
		return User{}, false, nil
	}
	if err != nil {
		return User{}, false, fmt.Errorf("route: looking up user #%d: %w", n, err)
	}
	return u, true, nil
}

// tagBlocked reports whether tag is listed in data/user/NNNN.smtpblock.
// The file is read on every tagged lookup, so an edit takes effect at once;
// tagged addresses are rare enough for that to be cheap.
func (r *Resolver) tagBlocked(user uint32, tag string) (bool, error) {
	if r.cfg.DataDir == "" {
		return false, nil
	}
	path := filepath.Join(r.cfg.DataDir, "user", fmt.Sprintf("%04d.smtpblock", user))
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("route: reading tag block list: %w", err)
	}
	// The file is a .can-style pattern list, so "promo~" withdraws every
	// tag containing "promo".
	list, err := pattern.Parse(bytes.NewReader(data))
	if err != nil {
		return false, fmt.Errorf("route: %s: %w", path, err)
	}
	return list.Match(tag), nil
}

// checkMailbox applies the checks on the recipient's mailbox: for mail,
// restriction I (closed to unauthenticated senders) and MaxMsgsWaiting;
// for SEND, that the user is online.
func (r *Resolver) checkMailbox(ctx context.Context, st *query, u User) error {
	if st.q.Telegram {
		if st.q.SendOnly && !r.dir.Online(ctx, u.Number) {
			return replyUnavailable()
		}
		return nil
	}
	if u.RestrictI && st.q.Auth == nil {
		return replyClosed(st.fp)
	}
	if r.cfg.MaxMsgsWaiting > 0 && !u.ExemptW {
		n, err := r.dir.MessageCount(ctx, u.Number)
		if err != nil {
			return fmt.Errorf("route: counting mail for user #%d: %w", u.Number, err)
		}
		// ">=" keeps the mailbox at MaxMsgsWaiting at most, as the sysop's
		// documentation of the key promises; Synchronet tests ">" and so
		// lets one more message in.
		if n >= r.cfg.MaxMsgsWaiting {
			return replyMailboxFull(st.fp)
		}
	}
	return nil
}

// record builds the recipient for a local user: the mailbox, or the user's
// Internet netmail address when the mail is to be forwarded.
func (r *Resolver) record(st *query, u User) envelope.Rcpt {
	rc := envelope.Rcpt{
		Kind:        envelope.KindMailbox,
		To:          u.Alias,
		User:        u.Number,
		ForwardPath: st.fp,
	}
	if r.forwards(st, u) {
		rc.Kind = envelope.KindRemote
		rc.NetType = envelope.NetInternet
		rc.NetAddr = u.NetMail
		rc.Forwarded = true
		rc.ForwardPath = ""
	}
	return rc
}

// forwards reports whether mail for u goes to the user's netmail address:
// never for telegrams or with local:, only when the system allows it, when
// the user asked for it or the sender wrote forward:, and only to an
// Internet address outside this system (so forwarding cannot loop back)
// that a client could name itself: the user wrote the netmail address, so
// it gets the same destination checks as a typed one.
func (r *Resolver) forwards(st *query, u User) bool {
	if st.q.Telegram || st.noForward || !r.cfg.AllowForward || !(u.Forward || st.forward) {
		return false
	}
	local, domain := envelope.SplitAddress(u.NetMail)
	if !strings.Contains(u.NetMail, "@") || local == "" || domain == "" {
		return false
	}
	host, _, _ := splitPort(domain)
	return !r.isLocalHost(host) && !isFidoDomain(domain) && r.checkDestination(domain) == nil
}

// ownFido reports whether addr (Z:N/F[.P]) is one of the system's own FTN
// addresses; FidoAddrs may carry an @domain.
func (r *Resolver) ownFido(addr string) bool {
	for _, a := range r.cfg.FidoAddrs {
		a, _, _ = strings.Cut(a, "@")
		if strings.TrimSuffix(a, ".0") == addr {
			return true
		}
	}
	return false
}

// fidoLocal delivers netmail to one of our own FTN addresses to the user
// the tosser would pick, with the usual mailbox checks.
func (r *Resolver) fidoLocal(ctx context.Context, st *query, name string) (envelope.Rcpt, error) {
	n, ok, err := r.cfg.FidoUser(ctx, name)
	if err != nil {
		return envelope.Rcpt{}, fmt.Errorf("route: looking up netmail addressee %q: %w", name, err)
	}
	if !ok {
		return envelope.Rcpt{}, replyUnknownUser(st.fp)
	}
	u, found, err := r.byNumber(ctx, n)
	if err != nil {
		return envelope.Rcpt{}, err
	}
	if !found || u.Deleted || u.Inactive {
		return envelope.Rcpt{}, replyUnknownUser(st.fp)
	}
	if err := r.checkMailbox(ctx, st, u); err != nil {
		return envelope.Rcpt{}, err
	}
	return r.record(st, u), nil
}
