package route

import (
	"context"
	"strings"

	"github.com/bbsmail/bbsmail/envelope"
)

// IsLocal reports whether domain is this system's: the system address,
// HostName or a domains.cfg entry, ignoring case. A ":port" on the domain
// must equal port, the port the client connected to, as in Synchronet
// (bbs.example.com:2525 reached on port 25 is somebody else's server).
// A port of 0 means the caller has no connection, and any port matches.
func (r *Resolver) IsLocal(domain string, port int) bool {
	host, p, hasPort := splitPort(domain)
	if hasPort && (p < 0 || (port != 0 && p != port)) {
		return false
	}
	return r.isLocalHost(host)
}

func (r *Resolver) isLocalHost(host string) bool {
	if host == "" {
		return false
	}
	return equalFold(host, r.cfg.SystemAddr) ||
		(r.cfg.HostName != "" && equalFold(host, r.cfg.HostName)) ||
		(r.cfg.Domains != nil && r.cfg.Domains.Match(host))
}

// OwnsSender reports whether the authenticated user id may use addr as the
// reverse path or a From or Sender address, on any port (RFC 6409 §6.1),
// and suggests the user's own address for the refusal.
//
// The empty (null) path is always allowed. An address in a local domain is
// owned when mail to it would reach the user: the alias.cfg lookup (whole
// address, then local part) followed by the recipient name rules gives the
// user's number; an alias that points off-system is not the user's. An
// address in a foreign domain is a relay, allowed when ALLOW_RELAY is on
// and the user may relay (neither M- nor G-restricted).
func (r *Resolver) OwnsSender(ctx context.Context, id envelope.Identity, addr string) (bool, string) {
	suggestion := strings.ReplaceAll(id.Alias, " ", ".") + "@" + r.cfg.SystemAddr
	if addr == "" {
		return true, suggestion
	}
	if !strings.Contains(addr, "@") || id.User == 0 {
		return false, suggestion
	}
	local, domain := envelope.SplitAddress(addr)
	if !r.isLocalHost(domain) {
		return r.cfg.AllowRelay && id.MayRelay, suggestion
	}
	name, hit, _ := lookupAlias(r.cfg.Aliases, addr)
	if !hit {
		name, hit, _ = lookupAlias(r.cfg.Aliases, local)
	}
	if strings.Contains(name, "@") {
		return false, suggestion
	}
	m, err := r.findUser(ctx, name, hit)
	// A lookup failure cannot prove ownership; the sender sees the refusal
	// and the suggestion, which is safer than letting a forgery through.
	if err != nil || !m.found || m.blocked || m.user.Deleted {
		return false, suggestion
	}
	return m.user.Number == id.User, suggestion
}
