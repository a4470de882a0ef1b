package ftn

import (
	"fmt"
	"strconv"
	"strings"
)

// Addr is a FidoNet address zone:net/node.point. Point 0 is the node
// itself.
type Addr struct {
	Zone, Net, Node, Point uint16
}

// Wildcard is the value ParseAddr gives a part written "ALL" in a pattern
// such as sbbsecho.ini's [node:1:ALL]; only Match understands it.
const Wildcard = 0xFFFF

// ParseAddr parses zone:net/node[.point][@domain]; the domain is ignored.
// "ALL" in place of a part (or the whole address) is a Wildcard.
func ParseAddr(s string) (Addr, error) {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '@'); i >= 0 {
		s = s[:i]
	}
	bad := fmt.Errorf("ftn: invalid address %q (want zone:net/node[.point])", s)
	if strings.EqualFold(s, "ALL") {
		return Addr{Wildcard, Wildcard, Wildcard, Wildcard}, nil
	}
	zone, rest, ok := strings.Cut(s, ":")
	if !ok {
		return Addr{}, bad
	}
	var a Addr
	var err error
	if a.Zone, err = part(zone); err != nil || a.Zone == 0 {
		return Addr{}, bad
	}
	if strings.EqualFold(rest, "ALL") {
		a.Net, a.Node, a.Point = Wildcard, Wildcard, Wildcard
		return a, nil
	}
	netw, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return Addr{}, bad
	}
	if a.Net, err = part(netw); err != nil {
		return Addr{}, bad
	}
	node, point, hasPoint := strings.Cut(rest, ".")
	if a.Node, err = part(node); err != nil {
		return Addr{}, bad
	}
	if hasPoint {
		if a.Point, err = part(point); err != nil {
			return Addr{}, bad
		}
	} else if a.Node == Wildcard {
		a.Point = Wildcard
	}
	return a, nil
}

func part(s string) (uint16, error) {
	if strings.EqualFold(s, "ALL") {
		return Wildcard, nil
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == Wildcard {
		return 0, fmt.Errorf("bad number %q", s)
	}
	return uint16(n), nil
}

// String is the 4D form, without ".0" for a node.
func (a Addr) String() string {
	s := fmt.Sprintf("%d:%d/%d", a.Zone, a.Net, a.Node)
	if a.Point != 0 {
		s += fmt.Sprintf(".%d", a.Point)
	}
	return s
}

// Node returns the address without its point: the boss node of a point.
func (a Addr) Boss() Addr { a.Point = 0; return a }

// Domain is the Internet form used in e-mail addresses:
// [pP.]fF.nN.zZ.fidonet.
func (a Addr) Domain() string {
	s := fmt.Sprintf("f%d.n%d.z%d.fidonet", a.Node, a.Net, a.Zone)
	if a.Point != 0 {
		s = fmt.Sprintf("p%d.", a.Point) + s
	}
	return s
}

// Match reports whether a matches pattern p, whose parts may be Wildcard.
func (a Addr) Match(p Addr) bool {
	eq := func(x, y uint16) bool { return y == Wildcard || x == y }
	return eq(a.Zone, p.Zone) && eq(a.Net, p.Net) && eq(a.Node, p.Node) && eq(a.Point, p.Point)
}

// specificity orders patterns: an exact address beats 1:2/ALL beats 1:ALL
// beats ALL.
func (a Addr) specificity() int {
	n := 0
	for _, v := range []uint16{a.Zone, a.Net, a.Node, a.Point} {
		if v != Wildcard {
			n++
		}
	}
	return n
}
