package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/bbsmail/bbsmail/ctrl"
	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/qwk"
	"github.com/bbsmail/bbsmail/store"
)

// qwkConfig fills q from msgs.ini's enabled hubs; false when there are
// none.
func qwkConfig(cfg *ctrl.Config, q *qwk.Config, log *slog.Logger) bool {
	q.Hubs = q.Hubs[:0]
	for _, h := range cfg.System.QWKHubs {
		if h.Enabled {
			q.Hubs = append(q.Hubs, h.ID)
		}
	}
	q.DataDir, q.PacketDir, q.Host, q.Log = cfg.Paths.Data, qwkPacketDir(cfg), cfg.Host(), log
	return len(q.Hubs) > 0
}

// qwkPacketDir is [Mail] QWKPacketDir (relative to ctrl/), else data/qnet.
func qwkPacketDir(cfg *ctrl.Config) string {
	d := cfg.Mail.QWKPacketDir
	switch {
	case d == "":
		return filepath.Join(cfg.Paths.Data, "qnet")
	case filepath.IsAbs(d):
		return d
	}
	return filepath.Join(cfg.Paths.Ctrl, d)
}

// qwkSpool gives the REP writer the mailbase's QWK netmail.
type qwkSpool struct{ netMarks }

var _ qwk.Spool = qwkSpool{}

func (q qwkSpool) Pending() ([]qwk.Outgoing, error) {
	var out []qwk.Outgoing
	err := q.waiting(func(e store.NetmailEntry, text []byte) {
		out = append(out, qwk.Outgoing{ID: e.ID, To: e.To, Route: e.NetAddr, Message: text, Received: e.Received,
			LocalSender: e.SenderUser != 0, SenderName: senderName(q.db, e.SenderUser)})
	})
	return out, err
}

// qwkBoxes stores private mail from a hub like FidoNet netmail.
type qwkBoxes struct{ fidoBoxes }

func (q qwkBoxes) Deliver(_ context.Context, in qwk.Incoming) (string, bool, error) {
	return q.deliver("qwk", in.To, in.Key, in.Message)
}

// qwkPass writes the REP packets and/or reads the QWK packets.
func qwkPass(ctx context.Context, q *qwk.Config, db *store.DB, cfg *ctrl.Config, log *slog.Logger, pack, unpack bool) error {
	var errOut, errIn error
	if pack {
		var n int
		if n, errOut = q.Export(qwkSpool{netMarks{db, envelope.NetQWK}}); n > 0 {
			log.Info(fmt.Sprintf("QWK: %d netmail packed", n))
		}
	}
	if unpack {
		var res qwk.Result
		res, errIn = q.Scan(ctx, qwkBoxes{fidoBoxes{db: db, cfg: cfg}})
		if res.Packets+res.Bad > 0 {
			log.Info(fmt.Sprintf("QWK: %d packets unpacked, %d netmail stored, %d duplicates, %d bad packets", res.Packets, res.Imported, res.Dups, res.Bad))
		}
	}
	return errors.Join(errOut, errIn)
}

// qwkCmd runs `bbsmail qwk pack|unpack HUBID`.
func qwkCmd(dir string, args []string, stdout, stderr io.Writer) int {
	cfg, err := ctrl.Load(dir)
	if err != nil {
		fmt.Fprintln(stderr, "bbsmail:", err)
		return 1
	}
	hub, ok := cfg.System.QWKHub(args[1])
	if !ok {
		fmt.Fprintf(stderr, "bbsmail: no [qhub:%s] in msgs.ini\n", args[1])
		return 1
	}
	log := slog.New(newLineHandler(stdout, new(slog.LevelVar)))
	q := &qwk.Config{Hubs: []string{hub.ID}, DataDir: cfg.Paths.Data, PacketDir: qwkPacketDir(cfg), Host: cfg.Host(), Log: log}
	db, err := openStore(cfg, time.Second)
	if errors.Is(err, store.ErrLocked) {
		sem := filepath.Join(cfg.Paths.Data, "qnet-"+strings.ToLower(hub.ID)+".now")
		touchFile(sem)
		fmt.Fprintf(stdout, "the server is running: touched %s, it will %s shortly\n", sem, args[0])
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "bbsmail:", err)
		return 1
	}
	defer db.Close()
	if err := qwkPass(context.Background(), q, db, cfg, log, args[0] == "pack", args[0] == "unpack"); err != nil {
		fmt.Fprintln(stderr, "bbsmail:", err)
		return 1
	}
	return 0
}
