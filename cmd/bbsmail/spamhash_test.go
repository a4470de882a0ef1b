package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/ctrl"
	"github.com/bbsmail/bbsmail/store"
)

// The SMTP server's spam hash database is the mailbase's: a body recorded
// once is known again however it is re-wrapped, and a blank body is never
// recorded or known.
func TestSpamHashWiring(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "mail.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h := spamHashes{db: db}
	ctx := context.Background()
	if known, _, _, err := h.KnownSpam(ctx, []byte("Win a prize now\r\n")); err != nil || known {
		t.Fatalf("before adding: known=%v err=%v", known, err)
	}
	if err := h.AddSpam(ctx, []byte("Win a prize now\r\n")); err != nil {
		t.Fatal(err)
	}
	known, id, added, err := h.KnownSpam(ctx, []byte("Win a\r\n  prize now"))
	if err != nil || !known || len(id) != 8 || added.IsZero() {
		t.Fatalf("re-wrapped body: known=%v id=%q added=%v err=%v", known, id, added, err)
	}
	if err := h.AddSpam(ctx, []byte(" \r\n")); err != nil {
		t.Fatal(err)
	}
	if known, _, _, _ := h.KnownSpam(ctx, []byte("\r\n")); known {
		t.Error("a blank body is known spam")
	}
}

// sbbs.ini's DNSBL options and the spam lists reach the SMTP server.
func TestSMTPAntispamWiring(t *testing.T) {
	dir, cfg := initConfig(t)
	cfg.Mail.Options |= ctrl.DNSBLThrottle | ctrl.DNSBLSpamHash | ctrl.DNSBLChkRecvHdrs
	cfg.Mail.SpamBlockDuration = time.Hour
	c := smtpdConfig(cfg, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if !c.DNSBLThrottle || !c.DNSBLSpamHash || !c.DNSBLCheckReceived {
		t.Errorf("DNSBL options lost: throttle=%v spamhash=%v chkrecvhdrs=%v", c.DNSBLThrottle, c.DNSBLSpamHash, c.DNSBLCheckReceived)
	}
	if c.SpamBait == nil || c.SpyList == nil || c.SpamBlockDuration != cfg.Mail.SpamBlockDuration {
		t.Errorf("spambait.cfg, smtpspy.can or SpamBlockDuration not passed on")
	}
	if c.SpamBlockPath != filepath.Join(dir, "spamblock.cfg") || c.SpyLogPath != filepath.Join(cfg.Paths.Logs, "smtpspy.txt") {
		t.Errorf("SpamBlockPath %q, SpyLogPath %q", c.SpamBlockPath, c.SpyLogPath)
	}
}
