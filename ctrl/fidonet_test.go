package ctrl_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/ctrl"
)

// TestFidoNetFromSbbsecho reads the directories and links from
// sbbsecho.ini, relative to the control directory as in Synchronet.
func TestFidoNetFromSbbsecho(t *testing.T) {
	t.Parallel()
	root := copyTree(t, filepath.Join("..", "testdata", "synchronet-stock"))
	dir := filepath.Join(root, "ctrl")
	ini := "Outbound = ../fido/out\nSecureInbound = /var/fido/in\nOutgoingSemaphore = ../data/binkd.now\n" +
		"SysopAliasList = SYSOP,Coordinator\nBsyTimeout = 2h\n\n" +
		"[node:1:2/1]\nPacketPwd = Secret\nStatus = Crash\n\n[node:1:ALL]\nRoute = 1:2/1\n\n[node:2:5/6]\nDirect = true\n"
	if err := os.WriteFile(filepath.Join(dir, "sbbsecho.ini"), []byte(ini), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := ctrl.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	fn := c.FidoNet
	if fn.Outbound != filepath.Join(root, "fido", "out") || fn.SecureInbound != "/var/fido/in" ||
		fn.Inbound != filepath.Join(root, "fido", "nonsecure") || fn.Semaphore != filepath.Join(root, "data", "binkd.now") {
		t.Errorf("directories %+v", fn)
	}
	if fn.BsyTimeout != 2*time.Hour || len(fn.SysopAliases) != 2 || fn.Charset != "CP437" || fn.Frequency != time.Minute {
		t.Errorf("settings %+v", fn)
	}
	want := []ctrl.FidoNode{{Addr: "1:2/1", PacketPwd: "Secret", Status: "Crash"}, {Addr: "1:ALL", Route: "1:2/1"}, {Addr: "2:5/6", Direct: true}}
	if len(fn.Nodes) != len(want) {
		t.Fatalf("nodes %+v", fn.Nodes)
	}
	for i := range want {
		if fn.Nodes[i] != want[i] {
			t.Errorf("node %d = %+v, want %+v", i, fn.Nodes[i], want[i])
		}
	}
	var dump bytes.Buffer
	if err := c.Dump(&dump); err != nil {
		t.Fatal(err)
	}
	if d := dump.String(); strings.Contains(d, "Secret") || !strings.Contains(d, "node 1:2/1: PacketPwd=(set) Status=Crash") {
		t.Errorf("check shows the FidoNet links as:\n%s", d)
	}
	if err := os.WriteFile(filepath.Join(dir, "sbbsecho.ini"), []byte("[node:1:2/1]\nStatus = Fast\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var ke *ctrl.Error
	if _, err := ctrl.Load(dir); !errors.As(err, &ke) || ke.Key != "Status" || ke.Line != 2 {
		t.Errorf("a bad Status loads: %v", err)
	}
}

// TestFidoNetFromSbbsIni uses the [Mail] keys when there is no
// sbbsecho.ini: FidoUplink becomes the route for every address.
func TestFidoNetFromSbbsIni(t *testing.T) {
	t.Parallel()
	root := copyTree(t, filepath.Join("..", "testdata", "synchronet-stock"))
	dir := filepath.Join(root, "ctrl")
	ini := []byte("[Mail]\nFidoUplink = 1:2/1\nFidoUplinkPacketPwd = pw\nFidoOutbound = /srv/out\nFidoCharset = UTF-8\n")
	if err := os.WriteFile(filepath.Join(dir, "sbbs.ini"), ini, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := ctrl.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	fn := c.FidoNet
	if fn.Outbound != "/srv/out" || fn.SecureInbound != filepath.Join(root, "fido", "inbound") || fn.Charset != "UTF-8" {
		t.Errorf("settings %+v", fn)
	}
	if len(fn.Nodes) != 2 || fn.Nodes[0].PacketPwd != "pw" || fn.Nodes[1].Addr != "ALL" || fn.Nodes[1].Route != "1:2/1" {
		t.Errorf("nodes %+v", fn.Nodes)
	}
}
