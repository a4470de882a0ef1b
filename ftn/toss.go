package ftn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// MaxPacket bounds the packets the scanner reads; a bigger file is set
// aside as bad rather than read into memory.
const MaxPacket = 64 << 20

// Scanner tosses the netmail the mailer leaves in the inbound. It
// remembers the packets it leaves alone so the log names each once.
type Scanner struct {
	Config *Config
	mu     sync.Mutex
	noted  map[string]time.Time
}

// ScanResult counts one scan.
type ScanResult struct {
	Packets  int // packets tossed and removed
	Imported int // messages stored
	Dups     int // messages seen before, not stored again
	Bad      int // packets set aside as *.bad
	Left     int // packets left for another tosser
}

// Scan reads every *.pkt in the inbound directories, oldest first.
func (s *Scanner) Scan(ctx context.Context, mb Mailboxes) (ScanResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.noted == nil {
		s.noted = map[string]time.Time{}
	}
	var res ScanResult
	var errs []error
	for _, dir := range s.Config.Inbound {
		if err := s.unbundle(dir, &res); err != nil {
			errs = append(errs, fmt.Errorf("ftn: %s: %w", dir, err))
		}
		for _, path := range packets(dir) {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			if err := s.toss(ctx, mb, path, &res); err != nil {
				errs = append(errs, fmt.Errorf("ftn: %s: %w", path, err))
			}
		}
	}
	return res, errors.Join(errs...)
}

// packets lists the *.pkt files of dir, oldest first.
func packets(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	type pkt struct {
		path string
		mod  time.Time
	}
	var list []pkt
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.EqualFold(filepath.Ext(e.Name()), ".pkt") {
			continue
		}
		if info, err := e.Info(); err == nil {
			list = append(list, pkt{filepath.Join(dir, e.Name()), info.ModTime()})
		}
	}
	sort.Slice(list, func(i, j int) bool {
		if !list[i].mod.Equal(list[j].mod) {
			return list[i].mod.Before(list[j].mod)
		}
		return list[i].path < list[j].path
	})
	out := make([]string, len(list))
	for i, p := range list {
		out[i] = p.path
	}
	return out
}

func (s *Scanner) toss(ctx context.Context, mb Mailboxes, path string, res *ScanResult) error {
	c := s.Config
	p, info, err := readPacket(path)
	if err != nil && !errors.Is(err, ErrFormat) && !errors.Is(err, errTooBig) {
		return err
	}
	if err != nil {
		res.Bad++
		c.log().Warn(fmt.Sprintf("FidoNet: bad packet %s: %v; renamed to .bad", path, err))
		return setAside(path)
	}
	c.defaultZones(p)
	l, linked := c.exactLink(p.Header.Orig)
	if linked && l.PacketPwd != "" && !strings.EqualFold(l.PacketPwd, p.Header.Password) {
		res.Bad++
		c.log().Warn(fmt.Sprintf("FidoNet: packet %s from %s has the wrong password; renamed to .bad", path, p.Header.Orig))
		return setAside(path)
	}
	secure := (linked && l.PacketPwd != "") || c.inSecureInbound(path)
	var mine []*Message
	for i := range p.Messages {
		m := &p.Messages[i]
		if !m.Echomail() && c.Ours(m.Dest) {
			mine = append(mine, m)
		}
	}
	if len(mine) != len(p.Messages) {
		// Echomail or netmail in transit: the echomail tosser's packet,
		// netmail for us included. Leave it whole.
		res.Left++
		if !s.noted[path].Equal(info.ModTime()) {
			s.noted[path] = info.ModTime()
			c.log().Info(fmt.Sprintf("FidoNet: %s holds %d messages that are not netmail to us; left for the echomail tosser", path, len(p.Messages)-len(mine)))
		}
		return nil
	}
	delete(s.noted, path)
	now := time.Now()
	imported, dups := 0, 0
	for _, m := range mine {
		in := ToInternet(m, c.Host, now)
		in.Secure = secure
		user, dup, err := mb.Deliver(ctx, in)
		if err != nil {
			// The packet stays: what was stored is recognised next time.
			return fmt.Errorf("storing netmail from %s to %q: %w", m.Orig, in.To, err)
		}
		if dup {
			dups++
			c.log().Info(fmt.Sprintf("FidoNet: duplicate netmail from %s to %q (%s) ignored", m.Orig, in.To, in.Key))
			continue
		}
		imported++
		c.log().Info(fmt.Sprintf("FidoNet: netmail from %s@%s to %q stored for %s", in.From, m.Orig, in.To, user))
	}
	if err := os.Remove(path); err != nil {
		return err
	}
	if err := SyncDir(filepath.Dir(path)); err != nil {
		return err
	}
	res.Packets++
	res.Imported += imported
	res.Dups += dups
	c.log().Info(fmt.Sprintf("FidoNet: tossed %s from %s: %d netmail stored, %d duplicates", path, p.Header.Orig, imported, dups))
	return nil
}

// inSecureInbound reports whether path lies in the secure inbound.
func (c *Config) inSecureInbound(path string) bool {
	if c.SecureInbound == "" {
		return false
	}
	a, err1 := filepath.Abs(filepath.Dir(path))
	b, err2 := filepath.Abs(c.SecureInbound)
	return err1 == nil && err2 == nil && a == b
}

// defaultZones puts our main zone where an old (Type-2 without zones)
// packet leaves it 0: such a packet from a link with a password must not
// escape the password check by omitting its zone.
func (c *Config) defaultZones(p *Packet) {
	z := c.Addrs[0].Zone
	for _, a := range []*Addr{&p.Header.Orig, &p.Header.Dest} {
		if a.Zone == 0 {
			a.Zone = z
		}
	}
	for i := range p.Messages {
		for _, a := range []*Addr{&p.Messages[i].Orig, &p.Messages[i].Dest} {
			if a.Zone == 0 {
				a.Zone = z
			}
		}
	}
}

func readPacket(path string) (*Packet, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if info.Size() > MaxPacket {
		return nil, info, fmt.Errorf("%d bytes: %w", info.Size(), errTooBig)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxPacket+1))
	if err != nil {
		return nil, info, err
	}
	p, err := Decode(b)
	return p, info, err
}

var errTooBig = fmt.Errorf("more than %d bytes", MaxPacket)

// setAside renames a packet to *.bad, as sbbsecho does, so the sysop can
// look at it and it is not read again.
func setAside(path string) error {
	bad := strings.TrimSuffix(path, filepath.Ext(path)) + ".bad"
	for i := 1; ; i++ {
		if _, err := os.Lstat(bad); err != nil {
			break
		}
		bad = fmt.Sprintf("%s.%d.bad", strings.TrimSuffix(path, filepath.Ext(path)), i)
	}
	return os.Rename(path, bad)
}
