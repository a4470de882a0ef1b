package ftn

import (
	"log/slog"
	"time"
)

// Flavour is a BinkleyTerm-Style Outbound flavour: the letter before "ut"
// in a packet's name.
type Flavour byte

const (
	Normal Flavour = 'o'
	Crash  Flavour = 'c'
	Hold   Flavour = 'h'
	Direct Flavour = 'd'
)

// Link is what we know about one node or, with Wildcard parts, a group of
// them (sbbsecho.ini [node:...] sections).
type Link struct {
	Addr      Addr
	PacketPwd string
	// Route sends this node's netmail through another node (the uplink);
	// zero means direct.
	Route Addr
	// Flavour is the node's Status (Normal, Crash, Hold); Direct as
	// sbbsecho's Direct=true, which also stops routing.
	Flavour Flavour
}

// Config is the exporter's and the scanner's configuration; cmd/bbsmail
// builds it from sbbsecho.ini or sbbs.ini [Mail] and msgs.ini.
type Config struct {
	// Addrs are our addresses; the first one is the main address whose
	// zone lives in the outbound without a zone extension.
	Addrs []Addr
	// Outbound is the BSO root, e.g. ../fido/outbound.
	Outbound string
	// Inbound lists the directories the scanner reads, secure first.
	Inbound []string
	// SecureInbound is the one of them the mailer fills only from
	// sessions that gave their password (sbbsecho's SecureInbound).
	SecureInbound string
	Links         []Link
	// Charset is what exported netmail is written in (CHRS).
	Charset Charset
	// PID names the product in PID kludges and Via lines.
	PID string
	// Host names this system in the Received line of imported mail.
	Host string
	// Semaphore, when set, is touched after packets were written so the
	// mailer looks at the outbound at once (sbbsecho's
	// OutgoingSemaphore).
	Semaphore string
	// StaleLock is when a .bsy file left by another program counts as
	// stale and is removed (sbbsecho's BsyTimeout); 0 means never.
	StaleLock time.Duration
	Log       *slog.Logger
	// AfterStep, when set, is called between the steps of an export
	// ("packed": the packet is complete and the mailbase knows it;
	// "renamed": the packet is in the outbound). Tests use it to stop the
	// process at the worst moments.
	AfterStep func(step string)
}

// link finds the configuration for a, the most specific pattern first.
func (c *Config) link(a Addr) (Link, bool) {
	best, found := Link{}, false
	for _, l := range c.Links {
		if a.Match(l.Addr) && (!found || l.Addr.specificity() > best.Addr.specificity()) {
			best, found = l, true
		}
	}
	return best, found
}

// exactLink is the configuration of a itself (no wildcard).
func (c *Config) exactLink(a Addr) (Link, bool) {
	for _, l := range c.Links {
		if l.Addr == a {
			return l, true
		}
	}
	return Link{}, false
}

// nextHop is where netmail to dest goes: dest itself, its route (uplink),
// or the boss of an unconfigured point, as sbbsecho routes.
func (c *Config) nextHop(dest Addr) Addr {
	l, ok := c.link(dest)
	if ok && l.Flavour != Direct && l.Route.Zone != 0 {
		return l.Route
	}
	if !ok && dest.Point != 0 {
		if _, ok := c.exactLink(dest.Boss()); ok {
			return dest.Boss()
		}
	}
	return dest
}

// origFor is our address to use towards a: the first in a's zone.
func (c *Config) origFor(a Addr) Addr {
	for _, o := range c.Addrs {
		if o.Zone == a.Zone {
			return o
		}
	}
	return c.Addrs[0]
}

// Ours reports whether a is one of our addresses.
func (c *Config) Ours(a Addr) bool {
	for _, o := range c.Addrs {
		if o == a {
			return true
		}
	}
	return false
}

func (c *Config) log() *slog.Logger {
	if c.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Log
}
