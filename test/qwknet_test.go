package test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// qwkBlock pads s with spaces to whole 128-byte blocks.
func qwkBlocks(s string) []byte {
	b := []byte(s)
	for len(b)%128 != 0 {
		b = append(b, ' ')
	}
	return b
}

// qwkMessage builds one QWK message by the format (status, number,
// MM-DD-YYHH:MM, To, From, Subject, password, reference, blocks, 0xE1,
// conference, logical number, net tag; text lines end in 0xE3).
func qwkMessage(conf int, to, from, subject, text string) []byte {
	body := qwkBlocks(strings.ReplaceAll(text, "\n", "\xe3"))
	hdr := fmt.Sprintf("+%-7d%-13s%-25.25s%-25.25s%-25.25s%12s%-8d%-6d", 1, "03-04-2605:06", to, from, subject, "", 0, len(body)/128+1)
	h := append([]byte(hdr), 0xE1, byte(conf), byte(conf>>8), ' ', ' ', '*')
	return append(h, body...)
}

// TestQWKNetmail routes mail for VERT!sysop into the hub's REP packet
// (data/qnet/VERT.rep, a ZIP holding VERT.MSG) and tosses the private mail
// of QWK packets from the hub (data/qnet/VERT.qwk, and data/VERT.QWK where
// Synchronet's call-out scripts leave it) into a user's POP3 mailbox.
func TestQWKNetmail(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.routingSetIni("msgs.ini", "qhub:VERT", "enabled", "true")
	b.mail["FidoFrequency"] = "1h"
	b.start()
	b.addUser("Sysop", routingPW)
	b.addUser("Bob", routingPW, "--realname", "Bob Smith")

	b.routingMustSend(routingMsg{port: b.ports.Submission, from: "bob@bbs.test", to: []string{"VERT!Digital Man@bbs.test"},
		subject: "Über QWK", body: "Hello over QWKnet.\n", auth: []string{"bob", routingPW}})
	rep := filepath.Join(b.root, "data", "qnet", "VERT.rep")
	waitFor(t, 30*time.Second, "data/qnet/VERT.rep", func() bool { return fileExists(rep) })
	if rows := routingRows(b.must("netmail", "list")); len(rows) != 1 || !strings.Contains(rows[0], " packed ") || !strings.Contains(rows[0], rep) {
		t.Errorf("netmail list: want the netmail packed into %s:\n%s", rep, strings.Join(rows, "\n"))
	}
	zr, err := zip.OpenReader(rep)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var msg []byte
	for _, f := range zr.File {
		if f.Name == "VERT.MSG" {
			rc, _ := f.Open()
			var buf bytes.Buffer
			buf.ReadFrom(rc)
			rc.Close()
			msg = buf.Bytes()
		}
	}
	if len(msg) < 256 || len(msg)%128 != 0 || !strings.HasPrefix(string(msg), "VERT ") {
		t.Fatalf("VERT.MSG in the REP: %d bytes %q", len(msg), msg[:min(len(msg), 16)])
	}
	h := msg[128:256]
	if h[0] != '+' || strings.TrimSpace(string(h[1:8])) != "0" || strings.TrimSpace(string(h[21:46])) != "Digital Man" ||
		strings.TrimSpace(string(h[46:71])) != "Bob" || strings.TrimSpace(string(h[71:96])) != "\x9aber QWK" || h[122] != 0xE1 || h[127] != '*' {
		t.Errorf("REP message header %q", h)
	}
	if !strings.Contains(string(msg[256:]), "Hello over QWKnet.\xe3") {
		t.Errorf("REP message text %q", msg[256:])
	}

	// In: QWK packets from the hub with private mail for Bob Smith.
	qwkPath := filepath.Join(b.root, "data", "qnet", "VERT.qwk")
	syncPath := filepath.Join(b.root, "data", "VERT.QWK")
	writeQWK(t, qwkPath, "Re: Uber QWK", "<42.vert@vert.synchro.net>", "Thanks, got it.")
	writeQWK(t, syncPath, "Second", "<43.vert@vert.synchro.net>", "From data too.")
	b.must("qwk", "unpack", "VERT")
	waitFor(t, 30*time.Second, "the QWK packets to be unpacked", func() bool { return !fileExists(qwkPath) && !fileExists(syncPath) })
	got := python(t, "fidonet_pop3.py", "127.0.0.1", itoa(b.ports.POP3), "Bob", routingPW)
	for _, want := range []string{"From: Digital Man <VERT/VERT!Digital.Man@", "Subject: Re: Uber QWK", "Message-ID: <42.vert@vert.synchro.net>",
		"\nThanks, got it.\n=====", "Subject: Second", "\nFrom data too.\n====="} {
		if !strings.Contains(got, want) {
			t.Errorf("Bob's mailbox lacks %q:\n%s", want, got)
		}
	}
}

// writeQWK writes a QWK packet from the hub VERT holding one private
// message from Digital Man to Bob Smith.
func writeQWK(t *testing.T, path, subject, msgid, text string) {
	t.Helper()
	var pkt bytes.Buffer
	zw := zip.NewWriter(&pkt)
	w, _ := zw.Create("MESSAGES.DAT")
	w.Write(append(qwkBlocks("Produced by the hub"), qwkMessage(0, "BOB SMITH", "Digital Man", subject, "@VIA: VERT\n"+text+"\n")...))
	w, _ = zw.Create("HEADERS.DAT")
	w.Write([]byte("[80]\nMessage-ID: " + msgid + "\nTo: Bob Smith\n\n"))
	zw.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pkt.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
