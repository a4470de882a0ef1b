package ctrl

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/bbsmail/bbsmail/ctrl/pattern"
)

// Dump writes the effective configuration for `bbsmail check`: the paths,
// every [Global]/[Mail] key with its value and where it came from
// (default, or file:line and section), the system identity, the lists and
// any warnings. RelayPassword shows only whether it is set. The output is
// itself valid ini syntax.
func (c *Config) Dump(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := c.Paths
	fmt.Fprintf(bw, "[Paths]\n")
	for _, kv := range [][2]string{{"Ctrl", p.Ctrl}, {"Data", p.Data}, {"Text", p.Text}, {"Temp", p.Temp},
		{"Exec", p.Exec}, {"Mods", p.Mods}, {"Logs", p.Logs}, {"SBBSIni", p.SBBSIni},
		{"SSLCert", p.SSLCert}, {"SSLKey", p.SSLKey}} {
		fmt.Fprintf(bw, "\t%s = %s\n", kv[0], kv[1])
	}

	fmt.Fprintf(bw, "\n[Mail]\n")
	width := 0
	for _, s := range c.settings {
		width = max(width, len(s.Key)+3+len(s.Value))
	}
	for _, s := range c.settings {
		line := s.Key + " = " + s.Value
		fmt.Fprintf(bw, "\t%-*s ; %s\n", width, line, s.Source)
	}

	sys := c.System
	fmt.Fprintf(bw, "\n[System]\n")
	fmt.Fprintf(bw, "\tName = %s\n\tQWKID = %s\n\tOperator = %s\n\tInetAddr = %s\n", sys.Name, sys.QWKID, sys.Operator, sys.InetAddr)
	fmt.Fprintf(bw, "\tForwardToNetmail = %t\n\tKillReadMail = %t\n\tRealNameMail = %t\n", sys.ForwardToNetmail(), sys.KillReadMail(), sys.RealNameMail())
	fmt.Fprintf(bw, "\tLoginByNumber = %t\n\tLoginByRealName = %t\n", sys.LoginNumber(), sys.LoginRealName())
	addrs := make([]string, len(sys.FidoAddr))
	for i, a := range sys.FidoAddr {
		addrs[i] = a.String()
	}
	fmt.Fprintf(bw, "\tFidoNet = %s\n", strings.Join(addrs, ","))
	codes := make([]string, len(sys.Subs))
	for i, s := range sys.Subs {
		codes[i] = s.Code
	}
	fmt.Fprintf(bw, "\tSubs = %s\n", strings.Join(codes, ","))
	hubs := make([]string, len(sys.QWKHubs))
	for i, h := range sys.QWKHubs {
		hubs[i] = h.ID
		if !h.Enabled {
			hubs[i] += " (disabled)"
		}
	}
	fmt.Fprintf(bw, "\tQWKHubs = %s\n", strings.Join(hubs, ","))
	c.dumpFidoNet(bw)

	fmt.Fprintf(bw, "\n[Lists]\n")
	fmt.Fprintf(bw, "\talias.cfg = %d entries\n\tdns_blacklist.cfg = %d zones\n", len(c.Aliases), len(c.DNSBL))
	for _, f := range c.listFiles() {
		l, err := f.List()
		note := ""
		if err != nil {
			note = " ; " + err.Error()
		}
		fmt.Fprintf(bw, "\t%s = %d entries%s\n", listName(c, f), l.Len(), note)
	}
	if len(c.Notices) > 0 {
		fmt.Fprintf(bw, "\n[Notices]\n")
		for _, n := range c.Notices {
			fmt.Fprintf(bw, "\t; %s\n", n)
		}
	}
	if len(c.Warnings) > 0 {
		fmt.Fprintf(bw, "\n[Warnings]\n")
		for _, w := range c.Warnings {
			fmt.Fprintf(bw, "\t; %s\n", w)
		}
	}
	return bw.Flush()
}

func (c *Config) listFiles() []*pattern.File {
	ls := c.Lists
	return []*pattern.File{ls.Relay, ls.Domains, ls.DNSBLExempt, ls.SpamBlock, ls.SpamBlockExempt,
		ls.SpamBait, ls.TwitList, ls.IPFilterExempt, ls.Email, ls.Subject, ls.IP, ls.IPSilent,
		ls.Host, ls.Name, ls.SMTPSpy}
}

// listName names a list file relative to the BBS root ("ctrl/relay.cfg").
func listName(c *Config, f *pattern.File) string {
	l := &loader{ctrl: c.Paths.Ctrl}
	return l.rel(f.Path())
}
