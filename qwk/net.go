package qwk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bbsmail/bbsmail/ftn"
)

// Outgoing is one QWK netmail to export.
type Outgoing struct {
	ID    uint64
	To    string // the addressee's name
	Route string // HUB or HUB/NODE/...
	// Message is the Internet message (trace header block included).
	Message     []byte
	Received    time.Time
	LocalSender bool
	SenderName  string // the BBS user's alias when LocalSender
}

// Incoming is private mail from a hub, ready for a mailbox.
type Incoming struct {
	To, From string
	Route    string // where replies go: HUB[/VIA]
	Key      string // duplicate detection
	Message  []byte
}

// Spool is the QWK netmail waiting in the mailbase, with the marks of
// ftn.Commit.
type Spool interface {
	Pending() ([]Outgoing, error)
	ftn.Marks
}

// Mailboxes takes imported mail; see ftn.Mailboxes.
type Mailboxes interface {
	Deliver(ctx context.Context, in Incoming) (user string, dup bool, err error)
}

// Config is the QWK side: which hubs, where their packets are.
type Config struct {
	Hubs []string // enabled hub ids
	// PacketDir holds the REP packets written (HUBID.rep) and QWK packets
	// read (HUBID.Q??); "" means DataDir. It is created when missing.
	PacketDir string
	// DataDir is data/, where Synchronet's call-out scripts leave QWK
	// packets (HUBID.qwk): read as well.
	DataDir string
	Host    string
	Log     *slog.Logger
	// AfterStep is ftn.Config.AfterStep for the REP writer.
	AfterStep func(step string)

	mu    sync.Mutex
	noted map[string]time.Time
}

func (c *Config) log() *slog.Logger {
	if c.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Log
}

// packetDir is PacketDir, else DataDir.
func (c *Config) packetDir() string {
	if c.PacketDir != "" {
		return c.PacketDir
	}
	return c.DataDir
}

// REPPath is where the REP packet for hub waits for the hub's call:
// HUBID.rep in the packet directory, or the REP already there under
// another case (Synchronet's pack_rep writes HUBID.REP).
func (c *Config) REPPath(hub string) string {
	dir, name := c.packetDir(), strings.ToUpper(hub)+".rep"
	if entries, err := os.ReadDir(dir); err == nil {
		for _, e := range entries {
			if strings.EqualFold(e.Name(), name) && e.Type().IsRegular() {
				return filepath.Join(dir, e.Name())
			}
		}
	}
	return filepath.Join(dir, name)
}

// scanDirs are the directories QWK packets are read from: the packet
// directory, then data/ when that is another one.
func (c *Config) scanDirs() []string {
	dirs := []string{c.packetDir()}
	if c.DataDir != "" && filepath.Clean(c.DataDir) != filepath.Clean(dirs[0]) {
		dirs = append(dirs, c.DataDir)
	}
	return dirs
}

// hubOf is the hub a route starts with, and the rest of the route.
func hubOf(route string) (hub, rest string) {
	hub, rest, _ = strings.Cut(strings.TrimSpace(route), "/")
	return strings.ToUpper(hub), rest
}

// Export adds the waiting netmail to each hub's REP packet, with the same
// exactly-once steps as ftn.Config.Export. Netmail for a hub that is not
// enabled waits.
func (c *Config) Export(sp Spool) (int, error) {
	if err := c.Recover(sp); err != nil {
		return 0, err
	}
	list, err := sp.Pending()
	if err != nil {
		return 0, err
	}
	byHub := map[string][]Outgoing{}
	for _, o := range list {
		hub, _ := hubOf(o.Route)
		byHub[hub] = append(byHub[hub], o)
	}
	total := 0
	var errs []error
	for _, hub := range c.Hubs {
		hub = strings.ToUpper(hub)
		if len(byHub[hub]) == 0 {
			continue
		}
		n, err := c.exportTo(sp, hub, byHub[hub])
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("qwk: REP for %s: %w", hub, err))
		}
	}
	return total, errors.Join(errs...)
}

func (c *Config) exportTo(sp Spool, hub string, list []Outgoing) (int, error) {
	msgs := make([]Message, 0, len(list))
	ids := make([]uint64, 0, len(list))
	msgids := make([]string, 0, len(list))
	for _, o := range list {
		m, id := toQWK(o)
		msgs, msgids, ids = append(msgs, m), append(msgids, id), append(ids, o.ID)
	}
	if err := os.MkdirAll(c.packetDir(), 0o755); err != nil {
		return 0, err
	}
	out := c.REPPath(hub)
	old, err := os.ReadFile(out)
	if err != nil && !os.IsNotExist(err) {
		return 0, err
	}
	rep, err := AddToREP(old, hub, msgs, msgids)
	if err != nil {
		return 0, err
	}
	if err := ftn.Commit(sp, ids, out, "bbsmail-qwk-", rep, len(old) == 0, c.AfterStep); err != nil {
		return 0, err
	}
	c.log().Info(fmt.Sprintf("QWK: wrote %d netmail to %s (%d bytes)", len(ids), out, len(rep)))
	return len(ids), nil
}

// toQWK converts a netmail to a REP message in conference 0, as
// Synchronet's msgtoqwk does for QWKnet netmail: the name in To for the
// hub itself, NETMAIL and a "name@route" first line for a node beyond it.
func toQWK(o Outgoing) (Message, string) {
	p := ftn.ParseInternet(o.Message, o.Received)
	if o.LocalSender && o.SenderName != "" {
		p.FromName = o.SenderName
	}
	cs := ftn.CP437
	m := Message{Private: true, Conf: 0, Date: p.Date.Local(), To: o.To,
		From: string(cs.Encode(p.FromName)), Subject: string(cs.Encode(p.Subject)), NetTag: true}
	body := p.Body
	if _, rest := hubOf(o.Route); rest != "" {
		m.To = "NETMAIL"
		body = o.To + "@" + rest + "\n" + body
	}
	m.To = string(cs.Encode(m.To))
	if !o.LocalSender && p.FromAddr != "" {
		m.Kludges = map[string]string{"REPLYTO": p.FromAddr}
	}
	m.Body = string(cs.Encode(body))
	return m, p.MessageID
}

// Recover finishes or undoes interrupted REP exports (ftn.RecoverMarks)
// and removes temporary files nobody marked.
func (c *Config) Recover(sp Spool) error {
	known, err := ftn.RecoverMarks(sp, func(s string) { c.log().Warn("QWK: " + s) })
	strays, _ := filepath.Glob(filepath.Join(c.packetDir(), "bbsmail-qwk-*.tmp"))
	for _, s := range strays {
		if !known[s] {
			os.Remove(s)
		}
	}
	return err
}

// Result counts one scan.
type Result struct{ Packets, Imported, Dups, Bad, Left int }

// Scan reads the hubs' QWK packets (HUBID.Q??, any case) in the packet
// directory and in data/, and stores their private mail.
func (c *Config) Scan(ctx context.Context, mb Mailboxes) (Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var res Result
	var errs []error
	for _, dir := range c.scanDirs() {
		entries, err := os.ReadDir(dir)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		sort.Strings(names)
		for _, hub := range c.Hubs {
			for _, n := range names {
				if len(n) == len(hub)+4 && strings.EqualFold(n[:len(hub)+2], hub+".Q") {
					if err := c.toss(ctx, mb, strings.ToUpper(hub), filepath.Join(dir, n), &res); err != nil {
						errs = append(errs, fmt.Errorf("qwk: %s: %w", n, err))
					}
				}
			}
		}
	}
	return res, errors.Join(errs...)
}
