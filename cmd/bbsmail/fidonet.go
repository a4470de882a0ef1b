package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/bbsmail/bbsmail/admin"
	"github.com/bbsmail/bbsmail/ctrl"
	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/ftn"
	"github.com/bbsmail/bbsmail/qwk"
	"github.com/bbsmail/bbsmail/store"
)

// importMemory is how long the keys of imported netmail are kept for
// duplicate detection.
const importMemory = 180 * 24 * time.Hour

// fidoConfig builds the FidoNet configuration from msgs.ini's addresses and
// cfg.FidoNet; nil when the BBS has no FidoNet address.
func fidoConfig(cfg *ctrl.Config, log *slog.Logger) (*ftn.Config, error) {
	if len(cfg.System.FidoAddr) == 0 {
		return nil, nil
	}
	fn := cfg.FidoNet
	c := &ftn.Config{
		Outbound: fn.Outbound, Inbound: []string{fn.SecureInbound, fn.Inbound}, SecureInbound: fn.SecureInbound,
		PID: "bbsmail " + version, Host: cfg.Host(), Semaphore: fn.Semaphore,
		StaleLock: fn.BsyTimeout, Log: log,
	}
	for _, a := range cfg.System.FidoAddr {
		c.Addrs = append(c.Addrs, ftn.Addr{Zone: uint16(a.Zone), Net: uint16(a.Net), Node: uint16(a.Node), Point: uint16(a.Point)})
	}
	cs, ok := ftn.ParseCharset(fn.Charset)
	if !ok {
		return nil, fmt.Errorf("FidoCharset %q: not CP437, LATIN-1, UTF-8 or ASCII", fn.Charset)
	}
	c.Charset = cs
	for _, n := range fn.Nodes {
		l, err := fidoLink(n)
		if err != nil {
			return nil, fmt.Errorf("%s [node:%s]: %w", fn.Source, n.Addr, err)
		}
		c.Links = append(c.Links, l)
	}
	return c, nil
}

func fidoLink(n ctrl.FidoNode) (ftn.Link, error) {
	a, err := ftn.ParseAddr(n.Addr)
	if err != nil {
		return ftn.Link{}, err
	}
	l := ftn.Link{Addr: a, PacketPwd: n.PacketPwd, Flavour: ftn.Normal}
	if n.Route != "" {
		if l.Route, err = ftn.ParseAddr(n.Route); err != nil {
			return ftn.Link{}, fmt.Errorf("route: %w", err)
		}
	}
	switch {
	case strings.EqualFold(n.Status, "crash"):
		l.Flavour = ftn.Crash
	case strings.EqualFold(n.Status, "hold"):
		l.Flavour = ftn.Hold
	case n.Direct:
		l.Flavour = ftn.Direct
	}
	return l, nil
}

// netMarks are the packed marks of one network's netmail (ftn.Marks).
type netMarks struct {
	db *store.DB
	nt envelope.NetType
}

func (m netMarks) Pack(ids []uint64, tmp, final string) error {
	return m.db.PackNetmail(ids, tmp, final)
}
func (m netMarks) Unpack(ids []uint64) error { return m.db.UnpackNetmail(ids) }
func (m netMarks) Exported(ids []uint64, final string, fresh bool) error {
	return m.db.NetmailExported(ids, final, fresh)
}
func (m netMarks) Packed() (map[uint64]ftn.Mark, error) { return packedOf(m.db, m.nt) }

// waiting calls fn for each netmail of the network that is not packed,
// oldest first, with its text.
func (m netMarks) waiting(fn func(e store.NetmailEntry, text []byte)) error {
	list, err := m.db.Netmail()
	if err != nil {
		return err
	}
	packed, err := m.db.NetmailPacked()
	if err != nil {
		return err
	}
	for _, e := range list {
		if _, p := packed[e.ID]; p || e.NetType != m.nt {
			continue
		}
		text, err := m.db.NetmailMessage(e.ID)
		if err != nil {
			return err
		}
		fn(e, text)
	}
	return nil
}

// fidoSpool gives the exporter the mailbase's FidoNet netmail.
type fidoSpool struct {
	netMarks
	log *slog.Logger
}

func newFidoSpool(db *store.DB, log *slog.Logger) fidoSpool {
	return fidoSpool{netMarks{db, envelope.NetFido}, log}
}

var _ ftn.Spool = fidoSpool{}

func (f fidoSpool) Pending() ([]ftn.Outgoing, error) {
	var out []ftn.Outgoing
	err := f.waiting(func(e store.NetmailEntry, text []byte) {
		dest, err := ftn.ParseAddr(e.NetAddr)
		if err != nil {
			f.log.Warn(fmt.Sprintf("FidoNet: netmail %d to %q: %v; left in the mailbase", e.ID, e.NetAddr, err))
			return
		}
		out = append(out, ftn.Outgoing{ID: e.ID, To: e.To, Dest: dest, Message: text, Received: e.Received,
			LocalSender: e.SenderUser != 0, SenderName: senderName(f.db, e.SenderUser)})
	})
	return out, err
}

// senderName is the alias of the BBS user who sent a netmail, "" for
// Internet senders.
func senderName(db *store.DB, user uint32) string {
	if user == 0 {
		return ""
	}
	u, err := db.User(user)
	if err != nil {
		return ""
	}
	return u.Alias
}

// packedOf returns the packed marks of one network's netmail: the FidoNet
// and QWK exporters each recover their own.
func packedOf(db *store.DB, nt envelope.NetType) (map[uint64]ftn.Mark, error) {
	marks, err := db.NetmailPacked()
	if err != nil || len(marks) == 0 {
		return nil, err
	}
	list, err := db.Netmail()
	if err != nil {
		return nil, err
	}
	out := map[uint64]ftn.Mark{}
	for _, e := range list {
		if t, ok := marks[e.ID]; ok && e.NetType == nt {
			out[e.ID] = ftn.Mark{Tmp: t.Tmp, Final: t.Final}
		}
	}
	return out, nil
}

// netmailRunner exports netmail and tosses what came in, FidoNet and QWK,
// in the server: every FidoFrequency, when netmail is stored, and when
// data/fidoout.now, data/fidoin.now, a data/qnet-HUBID.now or a
// data/qnet/HUBID.now is touched.
type netmailRunner struct {
	s    *server
	wake chan struct{}
	mu   sync.Mutex // one pass at a time: the two exporters share the marks
	scan ftn.Scanner
	qwk  qwk.Config
}

func newNetmailRunner(s *server) *netmailRunner {
	return &netmailRunner{s: s, wake: make(chan struct{}, 1)}
}

// Wake asks for a pass soon; it never blocks.
func (r *netmailRunner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *netmailRunner) semaphores() string {
	data := r.s.config().Paths.Data
	qnet, _ := filepath.Glob(filepath.Join(data, "qnet-*.now"))
	// Synchronet's own QWK hub semaphore is data/qnet/HUBID.now.
	hubs, _ := filepath.Glob(filepath.Join(data, "qnet", "*.now"))
	qnet = append(qnet, hubs...)
	return stamps(append([]string{filepath.Join(data, "fidoout.now"), filepath.Join(data, "fidoin.now")}, qnet...))
}

func (r *netmailRunner) run(ctx context.Context) {
	seen := r.semaphores()
	check := time.NewTicker(r.s.config().Mail.SemFileCheck)
	defer check.Stop()
	last := time.Time{}
	for {
		if time.Since(last) >= r.s.config().FidoNet.Frequency {
			last = time.Now()
			r.pass(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
			last = time.Now()
			r.pass(ctx)
		case <-check.C:
			if now := r.semaphores(); now != seen {
				seen = now
				last = time.Now()
				r.pass(ctx)
			}
		}
	}
}

// pass exports, then tosses; errors are logged and the next pass retries.
func (r *netmailRunner) pass(ctx context.Context) {
	defer r.s.recoverGoroutine("netmail")
	r.mu.Lock()
	defer r.mu.Unlock()
	cfg, log := r.s.config(), r.s.log
	if fc, err := fidoConfig(cfg, log); err != nil {
		log.Error(fmt.Sprintf("!FidoNet: %v", err))
	} else if fc != nil {
		if err := fidoPass(ctx, fc, &r.scan, r.s.db, cfg, log, true, true); err != nil {
			log.Error(fmt.Sprintf("!FidoNet: %v", err))
		}
	}
	if qwkConfig(cfg, &r.qwk, log) {
		if err := qwkPass(ctx, &r.qwk, r.s.db, cfg, log, true, true); err != nil {
			log.Error(fmt.Sprintf("!QWK: %v", err))
		}
	}
	// Netmail whose packet the mailer took away is sent.
	if err := r.s.db.NetmailSentCheck(admin.PacketGone, time.Now()); err != nil {
		log.Warn(fmt.Sprintf("netmail: %v", err))
	}
}

// fidoPass exports and/or tosses, for the server and the command line.
func fidoPass(ctx context.Context, fc *ftn.Config, sc *ftn.Scanner, db *store.DB, cfg *ctrl.Config, log *slog.Logger, export, scan bool) error {
	var errOut, errIn error
	// Tossing first: a bounce it stores leaves in the same pass.
	if scan {
		sc.Config = fc
		var res ftn.ScanResult
		res, errIn = sc.Scan(ctx, fidoBoxes{db: db, cfg: cfg, bounced: new(int)})
		if res.Packets+res.Bad > 0 {
			log.Info(fmt.Sprintf("FidoNet: inbound: %d packets tossed, %d netmail stored, %d duplicates, %d bad packets", res.Packets, res.Imported, res.Dups, res.Bad))
		}
		if _, err := db.ForgetImported(time.Now().Add(-importMemory)); err != nil {
			log.Warn(fmt.Sprintf("FidoNet: %v", err))
		}
	}
	if export {
		var n int
		n, errOut = fc.Export(newFidoSpool(db, log))
		if n > 0 {
			log.Info(fmt.Sprintf("FidoNet: %d netmail exported", n))
		}
	}
	return errors.Join(errOut, errIn)
}

// netmailCmd runs `bbsmail netmail export|scan`: one pass now. With the
// server running it touches the semaphore the server watches instead.
func netmailCmd(dir string, args []string, stdout, stderr io.Writer) int {
	cfg, err := ctrl.Load(dir)
	if err != nil {
		fmt.Fprintln(stderr, "bbsmail:", err)
		return 1
	}
	log := slog.New(newLineHandler(stdout, new(slog.LevelVar)))
	fc, err := fidoConfig(cfg, log)
	if err == nil && fc == nil {
		err = errors.New("no FidoNet address in msgs.ini [FidoNet] addr_list")
	}
	if err != nil {
		fmt.Fprintln(stderr, "bbsmail:", err)
		return 1
	}
	db, err := openStore(cfg, time.Second)
	if errors.Is(err, store.ErrLocked) {
		sem := filepath.Join(cfg.Paths.Data, "fidoout.now")
		if args[0] == "scan" {
			sem = filepath.Join(cfg.Paths.Data, "fidoin.now")
		}
		touchFile(sem)
		fmt.Fprintf(stdout, "the server is running: touched %s, it will %s shortly\n", sem, args[0])
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "bbsmail:", err)
		return 1
	}
	defer db.Close()
	if err := fidoPass(context.Background(), fc, &ftn.Scanner{}, db, cfg, log, args[0] == "export", args[0] == "scan"); err != nil {
		fmt.Fprintln(stderr, "bbsmail:", err)
		return 1
	}
	return 0
}

func touchFile(path string) {
	now := time.Now()
	if err := os.Chtimes(path, now, now); err != nil {
		if f, err := os.Create(path); err == nil {
			f.Close()
		}
	}
}
