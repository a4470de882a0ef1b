package access

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/bbsmail/bbsmail/ars"
	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/route"
)

// Logins finds the account behind a login id and decides whether it may
// log in.
type Logins struct {
	Dir route.Directory
	// ByNumber and ByRealName are main.ini's login options: a user number
	// and a real name are tried only when they are set; an alias always.
	ByNumber, ByRealName bool
	// Requirements is [Mail] LoginRequirements; nil lets every account in.
	Requirements *ars.Expr
	// BadLogin is the error wrapped for any login that must fail like a
	// wrong password (the servers' own sentinel), so that a client learns
	// nothing about which names exist.
	BadLogin error
}

// Find resolves a login id as Synchronet does: a user number when the
// system allows login by number, else an alias (ignoring punctuation and
// case), else a real name when allowed. A deleted or inactive account
// never logs in, whatever the login id was.
func (l Logins) Find(ctx context.Context, login string) (route.User, error) {
	var u route.User
	err := route.ErrNoUser
	if l.ByNumber {
		if n, perr := strconv.ParseUint(login, 10, 32); perr == nil {
			u, err = l.Dir.UserByNumber(ctx, uint32(n))
		}
	}
	if errors.Is(err, route.ErrNoUser) {
		u, err = l.Dir.UserByAlias(ctx, login)
	}
	if errors.Is(err, route.ErrNoUser) && l.ByRealName {
		u, err = l.Dir.UserByRealName(ctx, login)
	}
	switch {
	case errors.Is(err, route.ErrNoUser):
		return u, l.BadLogin
	case err != nil:
		return u, err
	case u.Deleted || u.Inactive:
		return u, l.BadLogin
	}
	return u, nil
}

// Allowed checks LoginRequirements for a user whose credentials were
// right. A refusal is a failed login like a wrong password, so the client
// learns nothing more; the reason goes to the log through the wrapped
// error.
func (l Logins) Allowed(ctx context.Context, u route.User) error {
	if l.Requirements == nil {
		return nil
	}
	c, _ := envelope.ClientFrom(ctx)
	if l.Requirements.Eval(Subject(u, c)) {
		return nil
	}
	return fmt.Errorf("%w: %s does not meet LoginRequirements (%s)", l.BadLogin, u.Alias, l.Requirements.Source())
}

// Temporary turns a failure of the user base during a login into a 454
// reply, so the client retries later instead of being told its password
// is wrong. A failed login stays what it is.
func (l Logins) Temporary(err error) error {
	if err == nil || errors.Is(err, l.BadLogin) {
		return err
	}
	return envelope.AuthTemporary(err)
}

// Identity is the user as an authenticated sender: one who may relay and
// use foreign sender addresses unless restriction M or G is set.
func Identity(u route.User) envelope.Identity {
	return envelope.Identity{User: u.Number, Alias: u.Alias, MayRelay: !u.RestrictM && !u.RestrictG}
}
