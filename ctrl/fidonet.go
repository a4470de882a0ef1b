package ctrl

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/bbsmail/bbsmail/ctrl/ini"
)

// FidoNet is the netmail side of FidoNet: where the mailer's outbound and
// inbound are and what bbsmail knows about the links. It comes from
// ctrl/sbbsecho.ini when the sysop has one (the file Synchronet's SBBSecho
// and EchoCfg keep), else from the Fido keys of sbbs.ini [Mail].
type FidoNet struct {
	// Source names where the settings came from, for logs and `check`.
	Source string
	// Outbound, Inbound and SecureInbound are absolute directories.
	Outbound      string
	Inbound       string
	SecureInbound string
	// Nodes are the [node:ADDR] sections in file order, or the one
	// [node:ALL] that FidoUplink makes.
	Nodes []FidoNode
	// Semaphore is sbbsecho.ini's OutgoingSemaphore (absolute), touched
	// when packets were written; "" for none.
	Semaphore string
	// BsyTimeout is when another program's .bsy lock counts as stale.
	BsyTimeout time.Duration
	// SysopAliases are names that mean user #1 (sbbsecho's
	// SysopAliasList); DefaultRecipient gets netmail for unknown names
	// (else the sysop).
	SysopAliases     []string
	DefaultRecipient string
	// Charset is what exported netmail is written in (FidoCharset).
	Charset string
	// Frequency is how often the outbound is written and the inbound
	// read (FidoFrequency).
	Frequency time.Duration
}

// FidoNode is one [node:ADDR] section. Addr may hold ALL parts
// (1:ALL, 1:103/ALL, ALL).
type FidoNode struct {
	Addr      string
	PacketPwd string
	Route     string
	Status    string // Normal, Hold or Crash
	Direct    bool
}

// fidonet reads sbbsecho.ini, else the [Mail] Fido keys. Paths in both
// are relative to the control directory, as in Synchronet.
func (l *loader) fidonet() error {
	m := &l.c.Mail
	fn := &l.c.FidoNet
	fn.Charset, fn.Frequency = m.FidoCharset, m.FidoFrequency
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Clean(filepath.Join(l.ctrl, p))
	}
	path := filepath.Join(l.ctrl, "sbbsecho.ini")
	f, err := l.readIni(path)
	if err != nil {
		return err
	}
	if f == nil {
		fn.Source = "sbbs.ini [Mail]"
		fn.Outbound, fn.Inbound, fn.SecureInbound = abs(m.FidoOutbound), abs(m.FidoInbound), abs(m.FidoSecureInbound)
		fn.SysopAliases = []string{"SYSOP"}
		if m.FidoUplink != "" {
			fn.Nodes = []FidoNode{{Addr: m.FidoUplink, PacketPwd: m.FidoUplinkPacketPwd}, {Addr: "ALL", Route: m.FidoUplink}}
		}
		return nil
	}
	fn.Source = l.rel(path)
	root := f.Root()
	get := func(key, def string) string {
		if v := strings.TrimSpace(root.Value(key)); v != "" {
			return v
		}
		return def
	}
	fn.Outbound = abs(get("Outbound", "../fido/outbound"))
	fn.Inbound = abs(get("Inbound", "../fido/nonsecure"))
	fn.SecureInbound = abs(get("SecureInbound", "../fido/inbound"))
	fn.Semaphore = abs(get("OutgoingSemaphore", ""))
	fn.DefaultRecipient = get("DefaultRecipient", "")
	for a := range strings.SplitSeq(get("SysopAliasList", "SYSOP"), ",") {
		if a = strings.TrimSpace(a); a != "" {
			fn.SysopAliases = append(fn.SysopAliases, a)
		}
	}
	if k, ok := root.Get("BsyTimeout"); ok && strings.TrimSpace(k.Value) != "" {
		if fn.BsyTimeout, err = ParseDuration(k.Value, time.Second); err != nil {
			return &Error{File: l.rel(k.File), Line: k.Line, Key: "BsyTimeout", Err: err}
		}
	} else {
		fn.BsyTimeout = 12 * time.Hour
	}
	return l.fidoNodes(f)
}

func (l *loader) fidoNodes(f *ini.File) error {
	for _, sec := range f.SectionsWithPrefix("node:") {
		n := FidoNode{
			Addr:      strings.TrimSpace(sec.Name[len("node:"):]),
			PacketPwd: sec.Value("PacketPwd"),
			Route:     strings.TrimSpace(sec.Value("Route")),
			Status:    strings.TrimSpace(sec.Value("Status")),
		}
		if k, ok := sec.Get("Direct"); ok && k.Value != "" {
			d, err := ParseBool(k.Value)
			if err != nil {
				return &Error{File: l.rel(k.File), Line: k.Line, Section: sec.Name, Key: "Direct", Err: err}
			}
			n.Direct = d
		}
		switch strings.ToLower(n.Status) {
		case "", "normal", "hold", "crash":
		default:
			k, _ := sec.Get("Status")
			return &Error{File: l.rel(k.File), Line: k.Line, Section: sec.Name, Key: "Status",
				Err: fmt.Errorf("%q is not Normal, Hold or Crash", n.Status)}
		}
		l.c.FidoNet.Nodes = append(l.c.FidoNet.Nodes, n)
	}
	return nil
}

// dumpFidoNet writes the effective FidoNet settings for `bbsmail check`;
// packet passwords show as (set).
func (c *Config) dumpFidoNet(w io.Writer) {
	fn := c.FidoNet
	fmt.Fprintf(w, "\n[FidoNet] ; from %s\n", fn.Source)
	fmt.Fprintf(w, "\tOutbound = %s\n\tSecureInbound = %s\n\tInbound = %s\n", fn.Outbound, fn.SecureInbound, fn.Inbound)
	fmt.Fprintf(w, "\tCharset = %s\n\tFrequency = %s\n", fn.Charset, fn.Frequency)
	if fn.Semaphore != "" {
		fmt.Fprintf(w, "\tOutgoingSemaphore = %s\n", fn.Semaphore)
	}
	for _, n := range fn.Nodes {
		fmt.Fprintf(w, "\tnode %s:", n.Addr)
		if n.PacketPwd != "" {
			fmt.Fprint(w, " PacketPwd=(set)")
		}
		if n.Route != "" {
			fmt.Fprintf(w, " Route=%s", n.Route)
		}
		if n.Status != "" {
			fmt.Fprintf(w, " Status=%s", n.Status)
		}
		if n.Direct {
			fmt.Fprint(w, " Direct")
		}
		fmt.Fprintln(w)
	}
}
