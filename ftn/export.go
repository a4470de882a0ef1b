package ftn

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Version goes into the packet header's product revision.
const (
	productCode = 0xFE // FTSC: no product code assigned
	revMajor    = 1
	revMinor    = 0
)

// Export writes the pending netmail into the outbound: one packet file per
// next hop and flavour, appended to what is already waiting there. It
// first finishes or undoes what an interrupted run left (Recover). It
// returns how many netmail messages left the mailbase.
func (c *Config) Export(sp Spool) (int, error) {
	if len(c.Addrs) == 0 {
		return 0, errors.New("ftn: no FidoNet address configured (msgs.ini [FidoNet] addr_list)")
	}
	if err := c.Recover(sp); err != nil {
		return 0, err
	}
	list, err := sp.Pending()
	if err != nil {
		return 0, err
	}
	type key struct {
		hop Addr
		fl  Flavour
	}
	groups := map[key][]Outgoing{}
	var order []key
	for _, o := range list {
		hop := c.nextHop(o.Dest)
		k := key{hop, c.flavour(hop)}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], o)
	}
	total := 0
	var errs []error
	for _, k := range order {
		n, err := c.exportTo(sp, k.hop, k.fl, groups[k])
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("ftn: netmail for %s: %w", k.hop, err))
		}
	}
	if total > 0 && c.Semaphore != "" {
		touch(c.Semaphore)
	}
	return total, errors.Join(errs...)
}

func (c *Config) flavour(hop Addr) Flavour {
	if l, ok := c.link(hop); ok && l.Flavour != 0 {
		return l.Flavour
	}
	return Normal
}

func (c *Config) password(hop Addr) string {
	if l, ok := c.exactLink(hop); ok {
		return l.PacketPwd
	}
	return ""
}

// exportTo adds msgs to hop's packet under the node's .bsy lock; Commit
// makes it exactly once.
func (c *Config) exportTo(sp Spool, hop Addr, fl Flavour, msgs []Outgoing) (int, error) {
	unlock, ok, err := c.lock(hop)
	if err != nil {
		return 0, err
	}
	if !ok {
		c.log().Info(fmt.Sprintf("FidoNet: %s is busy (another program holds its .bsy); %d netmail wait", hop, len(msgs)))
		return 0, nil
	}
	defer unlock()
	out := c.PacketPath(hop, fl)
	b, fresh, err := c.startPacket(out, hop)
	if err != nil {
		return 0, err
	}
	ids := make([]uint64, 0, len(msgs))
	for _, o := range msgs {
		orig := c.origFor(o.Dest)
		m := FromInternet(o, ExportOptions{Orig: orig, Charset: c.Charset, PID: c.PID})
		b = AppendMessage(b, &m)
		ids = append(ids, o.ID)
	}
	b = append(b, 0, 0)
	if err := Commit(sp, ids, out, "bbsmail-", b, fresh, c.AfterStep); err != nil {
		return 0, err
	}
	c.log().Info(fmt.Sprintf("FidoNet: wrote %d netmail to %s (%d bytes)", len(ids), out, len(b)))
	return len(ids), nil
}

// startPacket returns the packet so far without its terminator: the
// content of out when it holds a valid packet, else a new header (fresh).
func (c *Config) startPacket(out string, hop Addr) (b []byte, fresh bool, err error) {
	old, err := os.ReadFile(out)
	if errors.Is(err, fs.ErrNotExist) {
		h := Header{Orig: c.origFor(hop), Dest: hop, Created: time.Now(), Password: c.password(hop),
			ProductCode: productCode, RevMajor: revMajor, RevMinor: revMinor, Plus: true}
		return EncodeHeader(h), true, nil
	}
	if err != nil {
		return nil, false, err
	}
	if _, err := Decode(old); err != nil {
		return nil, false, fmt.Errorf("%s is not a packet we can add to: %w", out, err)
	}
	return old[:len(old)-2], false, nil
}

// Recover finishes the exports a crash interrupted: a packed netmail whose
// temporary packet is gone was renamed into the outbound and leaves the
// mailbase; one whose temporary packet is still there never reached the
// outbound, so the file goes and the netmail waits again. Temporary
// packets nobody marked (a crash before step 2) are removed.
func (c *Config) Recover(sp Spool) error {
	known, err := RecoverMarks(sp, func(s string) { c.log().Warn("FidoNet: " + s) })
	c.removeStrays(known)
	return err
}

// removeStrays deletes temporary packets and .bsy locks our crashed runs
// left in the outbound directories.
func (c *Config) removeStrays(known map[string]bool) {
	root := filepath.Clean(c.Outbound)
	dirs, _ := filepath.Glob(root + "*")
	for _, d := range dirs {
		pnts, _ := filepath.Glob(filepath.Join(d, "*.pnt"))
		for _, dir := range append([]string{d}, pnts...) {
			tmps, _ := filepath.Glob(filepath.Join(dir, "bbsmail-*.tmp"))
			for _, t := range tmps {
				if !known[t] {
					os.Remove(t)
				}
			}
			locks, _ := filepath.Glob(filepath.Join(dir, "*.bsy"))
			for _, l := range locks {
				if b, err := os.ReadFile(l); err == nil && strings.HasPrefix(string(b), lockToken) && c.staleLock(l) {
					os.Remove(l)
				}
			}
		}
	}
}

func touch(path string) {
	now := time.Now()
	if err := os.Chtimes(path, now, now); err != nil {
		if f, err := os.Create(path); err == nil {
			f.Close()
		}
	}
}
