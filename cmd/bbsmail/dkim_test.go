package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/mailauth"
)

// writeKey writes a new Ed25519 key where loadSigner looks for it.
func writeKey(t *testing.T, path string) {
	t.Helper()
	_, p, err := mailauth.GenerateKey("ed25519", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, p, 0o600); err != nil {
		t.Fatal(err)
	}
}

// With DKIMSign on, the key of DKIMSelector must exist (the error names
// it); a domain's own key signs its mail as d=that domain, the default key
// the rest of the system's domains, and foreign From domains are not
// signed. The maildrop signs the remote copies only, once, and the queued
// copy carries the signature.
func TestDKIMSignerAndMaildrop(t *testing.T) {
	dir, base := initConfig(t)
	cfg := *base
	cfg.Mail.DKIMSign, cfg.Mail.DKIMSelector = true, "sel"
	own := dkimDomain(&cfg)
	if own == "" {
		t.Fatal("the default configuration has no signing domain")
	}
	if _, err := loadSigner(&cfg); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "dkim_sel.pem")) {
		t.Fatalf("without the key: %v, want an error naming dkim_sel.pem", err)
	}
	writeKey(t, filepath.Join(dir, "dkim_sel.pem"))
	writeKey(t, filepath.Join(dir, "dkim_sel_alias.test.pem"))
	sg, err := loadSigner(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	for from, d := range map[string]string{"sysop@" + own: own, "x@alias.test": "alias.test", "x@remote.test": ""} {
		f, err := sg.Sign([]byte("From: " + from + "\r\nSubject: s\r\n\r\nbody\r\n"))
		switch {
		case err != nil:
			t.Errorf("%s: %v", from, err)
		case d == "" && f != nil:
			t.Errorf("%s: signed, want unsigned", from)
		case d != "" && !strings.Contains(string(f), " d="+d+";"):
			t.Errorf("%s: %q, want d=%s", from, f, d)
		}
	}

	sw := &signer{}
	sw.set(sg)
	db := testDB(t)
	m := &maildrop{db: db, sign: sw}
	env := &envelope.Envelope{ID: "t.1", ReversePath: "sysop@" + own, Received: time.Now(), Rcpts: []envelope.Rcpt{
		{Kind: envelope.KindRemote, NetAddr: "a@remote.test", Trace: []byte("Received: one\r\n")},
		{Kind: envelope.KindSub, Sub: "general", Trace: []byte("Received: two\r\n")},
		{Kind: envelope.KindRemote, NetAddr: "b@remote.test", Trace: []byte("Received: one\r\n")},
	}}
	msg := []byte("From: Sysop <sysop@" + own + ">\r\nTo: a@remote.test\r\nSubject: s\r\n\r\nbody\r\n")
	if err := m.Deliver(context.Background(), env, msg); err != nil {
		t.Fatal(err)
	}
	sigs := []int{}
	for _, r := range env.Rcpts {
		sigs = append(sigs, strings.Count(string(r.Trace), "DKIM-Signature:"))
	}
	if sigs[0] != 1 || sigs[1] != 0 || sigs[2] != 1 || string(env.Rcpts[0].Trace) != string(env.Rcpts[2].Trace) {
		t.Errorf("signatures per copy %v, want [1 0 1] and one signature shared", sigs)
	}
	q, err := db.QueueList()
	if err != nil || len(q) != 2 {
		t.Fatalf("queue: %v, %v", q, err)
	}
	text, err := db.QueueMessage(q[0].ID)
	if err != nil || !strings.Contains(string(text), "DKIM-Signature: ") {
		t.Errorf("queued copy: %v\n%s", err, text)
	}
}

// A shutdown past its grace period cancels a delivery that has not begun:
// nothing is stored and the error says why.
func TestDeliverCancelled(t *testing.T) {
	db := testDB(t)
	m := &maildrop{db: db}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	env := &envelope.Envelope{ID: "t.2", ReversePath: "a@remote.test", Received: time.Now(), Rcpts: []envelope.Rcpt{
		{Kind: envelope.KindRemote, NetAddr: "b@remote.test", Trace: []byte("Received: one\r\n")},
	}}
	if err := m.Deliver(ctx, env, []byte("Subject: s\r\n\r\nbody\r\n")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Deliver after cancel: %v", err)
	}
	if q, err := db.QueueList(); err != nil || len(q) != 0 {
		t.Fatalf("queue after a cancelled delivery: %v, %v", q, err)
	}
}
