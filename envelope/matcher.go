package envelope

// Matcher is one of the sysop's pattern lists (ip.can, relay.cfg,
// ipfilter_exempt.cfg, domains.cfg, name.can...): Match reports whether any
// of the strings (a client IP and host name, an address and its display
// name) is listed. ctrl/pattern's lists satisfy it. It is declared here,
// once, because every package that applies a list takes one; the packages
// name it under their own Matcher as an alias.
type Matcher interface {
	Match(s ...string) bool
}
