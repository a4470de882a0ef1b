package ftn

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
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

// exportTo adds msgs to hop's packet. The order is what makes it exactly
// once: (1) the new packet, old content included, is written to a
// temporary file and synced; (2) the mailbase marks the netmail packed
// into that file; (3) the file is renamed over the packet and the
// directory synced; (4) the netmail leaves the mailbase. A crash before
// (3) leaves the temporary file, and Recover removes it and unmarks the
// netmail; a crash after (3) leaves no temporary file, and Recover
// completes (4).
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
	b, err := c.startPacket(out, hop)
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
	tmp := filepath.Join(filepath.Dir(out), fmt.Sprintf("bbsmail-%d-%d.tmp", ids[0], time.Now().UnixNano()))
	if err := writeFile(tmp, b); err != nil {
		return 0, err
	}
	if err := sp.Pack(ids, tmp); err != nil {
		os.Remove(tmp)
		return 0, err
	}
	c.step("packed")
	if err := os.Rename(tmp, out); err != nil {
		os.Remove(tmp)
		return 0, errors.Join(err, sp.Unpack(ids))
	}
	if err := syncDir(filepath.Dir(out)); err != nil {
		return 0, err
	}
	c.step("renamed")
	if err := sp.Exported(ids); err != nil {
		return 0, err
	}
	c.log().Info(fmt.Sprintf("FidoNet: wrote %d netmail to %s (%d bytes)", len(ids), out, len(b)))
	return len(ids), nil
}

// startPacket returns the packet so far without its terminator: the
// content of out when it holds a valid packet, else a new header.
func (c *Config) startPacket(out string, hop Addr) ([]byte, error) {
	old, err := os.ReadFile(out)
	if errors.Is(err, fs.ErrNotExist) {
		h := Header{Orig: c.origFor(hop), Dest: hop, Created: time.Now(), Password: c.password(hop),
			ProductCode: productCode, RevMajor: revMajor, RevMinor: revMinor, Plus: true}
		return EncodeHeader(h), nil
	}
	if err != nil {
		return nil, err
	}
	if _, err := Decode(old); err != nil {
		return nil, fmt.Errorf("%s is not a packet we can add to: %w", out, err)
	}
	return old[:len(old)-2], nil
}

func (c *Config) step(name string) {
	if c.AfterStep != nil {
		c.AfterStep(name)
	}
}

// Recover finishes the exports a crash interrupted: a packed netmail whose
// temporary packet is gone was renamed into the outbound and leaves the
// mailbase; one whose temporary packet is still there never reached the
// outbound, so the file goes and the netmail waits again. Temporary
// packets nobody marked (a crash before step 2) are removed.
func (c *Config) Recover(sp Spool) error {
	marks, err := sp.Packed()
	if err != nil {
		return err
	}
	byTmp := map[string][]uint64{}
	for id, tmp := range marks {
		byTmp[tmp] = append(byTmp[tmp], id)
	}
	var errs []error
	for tmp, ids := range byTmp {
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		if _, err := os.Stat(tmp); err == nil {
			c.log().Warn(fmt.Sprintf("FidoNet: an interrupted export left %s; %d netmail will be packed again", tmp, len(ids)))
			os.Remove(tmp)
			errs = append(errs, sp.Unpack(ids))
		} else {
			c.log().Info(fmt.Sprintf("FidoNet: an interrupted export had put %d netmail into the outbound; finishing", len(ids)))
			errs = append(errs, sp.Exported(ids))
		}
	}
	c.removeStrays(marks)
	return errors.Join(errs...)
}

// removeStrays deletes temporary packets and .bsy locks our crashed runs
// left in the outbound directories.
func (c *Config) removeStrays(marks map[uint64]string) {
	known := map[string]bool{}
	for _, t := range marks {
		known[t] = true
	}
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
