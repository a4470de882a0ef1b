package route

import (
	"context"
	"errors"
	"net/netip"
	"strings"

	"github.com/bbsmail/bbsmail/envelope"
)

// ErrNoUser is what a Directory returns (or wraps) when no user matches.
// Any other Directory error aborts the resolution and reaches the client as
// a temporary local error, so a broken mailbase never bounces mail.
var ErrNoUser = errors.New("route: no such user")

// User is what resolution needs to know about one BBS user.
type User struct {
	Number   uint32
	Alias    string
	RealName string
	// NetMail is the user's forwarding (netmail) address; forwarding only
	// applies when it is an Internet address in a foreign domain.
	NetMail string
	// Level (0..99) and Flags1 (flag set 1 letters) are for access
	// requirement strings.
	Level  int
	Flags1 string
	// Deleted and Inactive accounts receive nothing.
	Deleted, Inactive bool
	// ExemptW exempts the user from MaxMsgsWaiting; ExemptM from the
	// sending limits.
	ExemptW, ExemptM bool
	// Forward is the user's "forward mail to netmail" setting.
	Forward bool
	// RestrictI closes the mailbox to unauthenticated senders;
	// RestrictM and RestrictG forbid sending netmail and relaying.
	RestrictI, RestrictM, RestrictG bool
}

// Directory is the user base as resolution sees it. Lookups that find no
// user return an error wrapping ErrNoUser.
type Directory interface {
	// UserByNumber returns user n, deleted or not.
	UserByNumber(ctx context.Context, n uint32) (User, error)
	// UserByAlias matches aliases ignoring case and every non-alphanumeric
	// character on both sides, stopping at '@'; deleted users are skipped.
	UserByAlias(ctx context.Context, name string) (User, error)
	// UserByRealName matches real names exactly, ignoring case.
	UserByRealName(ctx context.Context, name string) (User, error)
	// MessageCount counts the undeleted mail waiting for the user, spam
	// included.
	MessageCount(ctx context.Context, user uint32) (int, error)
	// Online reports whether the user is on a node with paging on.
	Online(ctx context.Context, user uint32) bool
}

// Matcher is a pattern list (domains.cfg, a user's .smtpblock file) in the
// .can syntax. *pattern.List and *pattern.File from ctrl/pattern satisfy it.
type Matcher = envelope.Matcher

// Names is a Matcher over plain names compared without regard to ASCII case,
// for callers (and tests) that have a list rather than a pattern file.
type Names []string

// Match reports whether any of s equals one of the names.
func (n Names) Match(s ...string) bool {
	for _, name := range n {
		for _, x := range s {
			if equalFold(name, x) {
				return true
			}
		}
	}
	return false
}

// Processors is the RCPT-time side of the mail processors (mailproc.ini):
// *mailproc.Set implements it. MatchRcpt reports the processors whose To
// patterns match the recipient's name (after alias.cfg, without the
// domain) or address (after the prefixes), and the target: the last of
// them that consumes the message (PassThru=false), which captures the
// recipient without a user lookup. The query supplies the sender and
// client for AccessRequirements and the DNSBL listing (q.Listed).
type Processors interface {
	MatchRcpt(name, addr string, q envelope.RcptQuery) (matched []string, target string)
}

// Alias is one alias.cfg line: Name is matched against the recipient,
// Value replaces it.
type Alias struct {
	Name, Value string
}

// Sub is a message sub-board that accepts posts by mail.
type Sub struct {
	Code string // internal code, matched without regard to case
	Name string
}

// Config holds the plain values that resolution depends on. The wiring
// fills it from the sysop's configuration; a Resolver never reads it again
// after New, so reloading means building a new Resolver.
type Config struct {
	// SystemAddr is the BBS's Internet mail domain (e.g. bbs.example.com).
	SystemAddr string
	// HostName is [Mail] HostName; also a local domain when set.
	HostName string
	// Domains holds the extra local domains (ctrl/domains.cfg); nil = none.
	Domains Matcher
	// SysopName is the sysop's name; mail to it (dots read as spaces)
	// reaches user #1 without any option.
	SysopName string
	// QWKID is the system's QWK-ID, a sysop alias with SysopAliases.
	QWKID string
	// RealNames is "Receive E-mail by Real Name".
	RealNames bool
	// SysopAliases is ALLOW_SYSOP_ALIASES: sysop, postmaster and the QWK-ID
	// reach user #1.
	SysopAliases bool
	// RxByNumber is ALLOW_RX_BY_NUMBER: an all-digit name is a user number.
	RxByNumber bool
	// AllowForward is "Allow Forwarding to NetMail".
	AllowForward bool
	// DefaultUser receives mail for names that match no user (empty = none).
	DefaultUser string
	// MaxMsgsWaiting refuses mail to a full mailbox (0 = unlimited).
	MaxMsgsWaiting int
	// AllowRelay is ALLOW_RELAY. It only changes the refusal text here:
	// whether a session may relay arrives with each query (MayRelay).
	AllowRelay bool
	// FidoAddrs are the system's own FTN addresses; empty means the system
	// has no FidoNet and .fidonet recipients are refused.
	FidoAddrs []string
	// FidoUser, when set, finds the user that netmail for name at one of
	// FidoAddrs goes to, as the netmail tosser finds the addressee of
	// inbound netmail; ok false means nobody (the name is refused). Such
	// netmail is delivered here instead of being exported to ourselves.
	FidoUser func(ctx context.Context, name string) (user uint32, ok bool, err error)
	// QWKHubs are the QWK-IDs of the configured QWKnet hubs.
	QWKHubs []string
	// Subs are the sub-boards that sub:<code> may post to.
	Subs []Sub
	// MayPost, when set, decides whether the sender may post to the
	// sub-board (its access and posting requirements); its error, usually
	// an *envelope.Reply, refuses the recipient.
	MayPost func(ctx context.Context, sub string, q envelope.RcptQuery) error
	// PostTo is [Mail] PostTo, the addressee of sub-board posts.
	PostTo string
	// Aliases are the alias.cfg lines in file order; the first match wins.
	Aliases []Alias
	// DataDir is the BBS data directory, holding user/NNNN.smtpblock.
	DataDir string
	// Processors matches recipients against the mail processors' To
	// patterns; nil means there are none.
	Processors Processors
	// OwnAddr reports whether ip is one of this machine's addresses, which
	// a client may not name as a destination; nil means none is known
	// beyond loopback.
	OwnAddr func(ip netip.Addr) bool
}

// Resolver turns RCPT TO arguments into recipients. It is safe for
// concurrent use; it holds no mutable state.
type Resolver struct {
	cfg Config
	dir Directory
}

// New returns a Resolver over cfg and dir. cfg's slices are not copied; the
// caller must not change them afterwards.
func New(cfg Config, dir Directory) *Resolver {
	return &Resolver{cfg: cfg, dir: dir}
}

// query is the state of one resolution as it moves through the steps.
type query struct {
	q         envelope.RcptQuery
	fp        string // forward path: the raw argument, trimmed
	addr      string // the recipient after prefixes (Synchronet's rcpt_addr)
	forward   bool   // forward: prefix
	noForward bool   // local: prefix
	aliased   bool   // an alias.cfg line has been applied
}

// Resolve resolves one RCPT TO (or SEND/SOML/SAML recipient). Refusals are
// *envelope.Reply values wrapping the envelope sentinel reasons; any other
// error is a failure of the Directory and should be answered as a
// temporary local error.
//
// The anti-spam steps Synchronet runs between parsing and alias lookup
// (spam bait, email.can, DNSBL_BADUSER, smtpspy.can) belong to the caller:
// it runs them on Parse(arg).Addr before calling Resolve.
//
// A telegram (SEND, SOML, SAML) resolves only to a user's mailbox: for
// SEND the user must be online, and whatever an alias or a route made of
// the address, anything else is an unknown user.
func (r *Resolver) Resolve(ctx context.Context, q envelope.RcptQuery) (envelope.Rcpt, error) {
	rc, err := r.resolve(ctx, q)
	if err == nil && (q.Telegram || q.SendOnly) && (rc.User == 0 || rc.Kind != envelope.KindMailbox) {
		return envelope.Rcpt{}, replyUnknownUser(Parse(q.Arg).ForwardPath)
	}
	return rc, err
}

func (r *Resolver) resolve(ctx context.Context, q envelope.RcptQuery) (envelope.Rcpt, error) {
	if err := ctx.Err(); err != nil {
		return envelope.Rcpt{}, err
	}
	p := Parse(q.Arg)
	if p.Addr == "" {
		return envelope.Rcpt{}, replyNoRecipient()
	}
	if strayAt(p.ForwardPath) {
		return envelope.Rcpt{}, replyBadAddress(p.ForwardPath)
	}
	st := &query{q: q, fp: p.ForwardPath, addr: p.Addr, forward: p.Forward, noForward: p.Local}
	st.q.Telegram = q.Telegram || q.SendOnly // SEND is a telegram command

	// Whole-address alias, then the relay decision on what it produced.
	name, hit, exact := lookupAlias(r.cfg.Aliases, p.Addr)
	st.aliased = hit
	if rcpt, done, err := r.network(ctx, st, name, exact); done || err != nil {
		return rcpt, err
	}
	name, _ = envelope.SplitAddress(name)

	if route, user, ok := splitRoute(name); ok {
		return r.routed(st, route, user)
	}

	// Tidy the name, then the local-part alias.
	name = tidy(name)
	name, hit, exact = lookupAlias(r.cfg.Aliases, name)
	if hit {
		st.aliased = true
		// A local-part alias may also point off-system or along a QWK route;
		// Synchronet honours those only for whole-address aliases, which
		// surprises sysops who write "cnnreport joe@example.org".
		if rcpt, done, err := r.network(ctx, st, name, exact); done || err != nil {
			return rcpt, err
		}
		name, _ = envelope.SplitAddress(name)
		if route, user, ok := splitRoute(name); ok {
			return r.routed(st, route, user)
		}
	}

	// Mail processors: a To pattern marks the recipient for its processor;
	// a consuming processor's match captures it, user or not.
	matched, target := r.processors(st, name)
	if code, ok := cutPrefixFold(name, "sub:"); ok {
		if st.q.Telegram {
			// A telegram is a short message to a person, never a post.
			return envelope.Rcpt{}, replyUnknownUser(st.fp)
		}
		rc, err := r.sub(ctx, st, code)
		rc.Processors = matched
		return rc, err
	}
	if target != "" {
		return envelope.Rcpt{Kind: envelope.KindProcessor, To: st.addr, ForwardPath: st.fp, Processors: matched}, nil
	}
	rc, err := r.local(ctx, st, name)
	if err != nil {
		return envelope.Rcpt{}, err
	}
	rc.Processors = matched
	return rc, nil
}

// processors asks the mail processors about the recipient. Telegrams never
// reach a processor, so they match none.
func (r *Resolver) processors(st *query, name string) (matched []string, target string) {
	if r.cfg.Processors == nil || st.q.Telegram {
		return nil, ""
	}
	return r.cfg.Processors.MatchRcpt(name, st.addr, st.q)
}

// network applies the relay decision to addr when it has a domain and the
// query is for mail: FidoNet, a local domain (done = false, resolution goes
// on), or a remote address that is relayed or refused. forced marks an
// address the sysop wrote out in full in alias.cfg, which is relayed even
// when the session may not relay and may name any host and port; anything
// else, including an alias.cfg result built from the client's text, goes
// through the same decision and destination checks as a typed address.
// Telegrams ignore the domain.
func (r *Resolver) network(ctx context.Context, st *query, addr string, forced bool) (envelope.Rcpt, bool, error) {
	if st.q.Telegram || !strings.Contains(addr, "@") {
		return envelope.Rcpt{}, false, nil
	}
	local, domain := envelope.SplitAddress(addr)
	if isFidoDomain(domain) {
		netAddr, ok := parseFido(domain)
		if !ok || len(r.cfg.FidoAddrs) == 0 || !(forced || mayNetmail(st.q)) {
			return envelope.Rcpt{}, true, r.replyRelayDenied()
		}
		if r.ownFido(netAddr) && r.cfg.FidoUser != nil {
			rc, err := r.fidoLocal(ctx, st, fidoName(local))
			return rc, true, err
		}
		return envelope.Rcpt{
			Kind:        envelope.KindFido,
			To:          fidoName(local),
			NetType:     envelope.NetFido,
			NetAddr:     netAddr,
			ForwardPath: st.fp,
		}, true, nil
	}
	if r.IsLocal(domain, st.q.Port) {
		return envelope.Rcpt{}, false, nil
	}
	if !forced && !st.q.MayRelay {
		return envelope.Rcpt{}, true, r.replyRelayDenied()
	}
	if !forced {
		if err := r.checkDestination(domain); err != nil {
			return envelope.Rcpt{}, true, err
		}
	}
	return envelope.Rcpt{
		Kind:        envelope.KindRemote,
		To:          st.addr,
		NetType:     envelope.NetInternet,
		NetAddr:     addr,
		ForwardPath: st.fp,
	}, true, nil
}

// mayNetmail reports whether the sender may send FidoNet netmail: an
// authenticated user without restriction M or G, or a session that may
// relay. Synchronet lets any authenticated user through here; a restricted
// user sending netmail is exactly what restriction M is meant to stop.
func mayNetmail(q envelope.RcptQuery) bool {
	return q.MayRelay || (q.Auth != nil && q.Auth.MayRelay)
}

// routed handles route!user: QWK netmail through a configured hub, else an
// unknown user (Synchronet knows no other routes).
func (r *Resolver) routed(st *query, route, user string) (envelope.Rcpt, error) {
	route = tidy(route)
	hub := route
	if i := strings.IndexAny(hub, "/!"); i >= 0 {
		hub = hub[:i]
	}
	user = strings.TrimSpace(user)
	if st.q.Telegram || hub == "" || user == "" || !Names(r.cfg.QWKHubs).Match(hub) {
		return envelope.Rcpt{}, replyUnknownUser(st.fp)
	}
	return envelope.Rcpt{
		Kind:        envelope.KindQWK,
		To:          user,
		NetType:     envelope.NetQWK,
		NetAddr:     route,
		ForwardPath: st.fp,
	}, nil
}

// sub handles sub:<code>, asking MayPost whether the sender may post. The post is addressed to PostTo; when that is
// empty, Rcpt.To is empty and the storing side addresses the post to the
// message's To header name, else "All".
func (r *Resolver) sub(ctx context.Context, st *query, code string) (envelope.Rcpt, error) {
	for _, s := range r.cfg.Subs {
		if equalFold(s.Code, code) {
			if r.cfg.MayPost != nil {
				if err := r.cfg.MayPost(ctx, s.Code, st.q); err != nil {
					return envelope.Rcpt{}, err
				}
			}
			return envelope.Rcpt{
				Kind:        envelope.KindSub,
				Sub:         s.Code,
				To:          r.cfg.PostTo,
				ForwardPath: st.fp,
			}, nil
		}
	}
	return envelope.Rcpt{}, replyUnknownSub(code)
}
