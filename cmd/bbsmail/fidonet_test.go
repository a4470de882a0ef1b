package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/bbsmail/bbsmail/ctrl"
	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/ftn"
	"github.com/bbsmail/bbsmail/store"
)

// killEnv names the step at which the child process of
// TestFidoExportKill kills itself; killDir is the tree it works in.
const (
	killEnv = "BBSMAIL_TEST_FTN_KILL_AT"
	killDir = "BBSMAIL_TEST_FTN_DIR"
)

func killConfig(dir string) *ftn.Config {
	return &ftn.Config{
		Addrs:    []ftn.Addr{{Zone: 1, Net: 2, Node: 3}},
		Outbound: filepath.Join(dir, "outbound"),
		Links:    []ftn.Link{{Addr: ftn.Addr{Zone: 1, Net: 2, Node: 1}, PacketPwd: "pw"}},
		PID:      "bbsmail test",
	}
}

func openKillDB(t *testing.T, dir string) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(dir, "mail.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestFidoExportKill kills a real process with SIGKILL at each step of an
// export (after the mailbase marked the netmail packed, and after the
// packet was renamed into the outbound) and checks that the next run puts
// every netmail into the outbound exactly once.
func TestFidoExportKill(t *testing.T) {
	if step := os.Getenv(killEnv); step != "" {
		dir := os.Getenv(killDir)
		db := openKillDB(t, dir)
		c := killConfig(dir)
		c.AfterStep = func(s string) {
			if s == step {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {}
			}
		}
		_, err := c.Export(newFidoSpool(db, slog.New(slog.DiscardHandler)))
		t.Fatalf("the export ran to its end (%v) instead of being killed at %q", err, step)
	}
	for _, step := range []string{"packed", "renamed"} {
		t.Run(step, func(t *testing.T) {
			dir := t.TempDir()
			db := openKillDB(t, dir)
			for i := 1; i <= 3; i++ {
				env := &envelope.Envelope{ID: "k", ReversePath: "joe@example.org", Rcpts: []envelope.Rcpt{
					{Kind: envelope.KindFido, To: "Bob", NetType: envelope.NetFido, NetAddr: "1:2/1"}}}
				msg := fmt.Sprintf("From: Joe <joe@example.org>\r\nSubject: netmail %d\r\n\r\nbody %d\r\n", i, i)
				if _, err := db.Deliver(env, []byte(msg)); err != nil {
					t.Fatal(err)
				}
			}
			db.Close()
			cmd := exec.Command(os.Args[0], "-test.run=^TestFidoExportKill$")
			cmd.Env = append(os.Environ(), killEnv+"="+step, killDir+"="+dir)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("child: %v\n%s", err, out)
			}
			db = openKillDB(t, dir)
			defer db.Close()
			c := killConfig(dir)
			if n, err := c.Export(newFidoSpool(db, slog.New(slog.DiscardHandler))); err != nil {
				t.Fatalf("export after the kill: %d, %v", n, err)
			}
			b, err := os.ReadFile(c.PacketPath(ftn.Addr{Zone: 1, Net: 2, Node: 1}, ftn.Normal))
			if err != nil {
				t.Fatal(err)
			}
			p, err := ftn.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			var subjects []string
			for _, m := range p.Messages {
				subjects = append(subjects, m.Subject)
			}
			slices.Sort(subjects)
			if strings.Join(subjects, ",") != "netmail 1,netmail 2,netmail 3" {
				t.Errorf("outbound packet holds %q, want each netmail once", subjects)
			}
			left, _ := db.Netmail()
			packed, _ := db.NetmailPacked()
			if len(left) != 0 || len(packed) != 0 {
				t.Errorf("mailbase still holds %d netmail, %d marks", len(left), len(packed))
			}
			if err := db.Check(); err != nil {
				t.Error(err)
			}
			if junk, _ := filepath.Glob(filepath.Join(c.Outbound, "*.[bt][sm][yp]")); len(junk) != 0 {
				t.Errorf("left in the outbound: %v", junk)
			}
		})
	}
}

// TestFidoAddressee finds the user for imported netmail as sbbsecho does.
func TestFidoAddressee(t *testing.T) {
	db := testDB(t)
	sysop, _ := db.AddUser(store.User{Alias: "Sysop"}, "")
	bob, _ := db.AddUser(store.User{Alias: "Bob", RealName: "Robert Smith"}, "")
	gone, _ := db.AddUser(store.User{Alias: "Gone"}, "")
	db.DeleteUser(gone)
	cfg := &ctrl.Config{FidoNet: ctrl.FidoNet{SysopAliases: []string{"SYSOP", "Coordinator"}}}
	fb := fidoBoxes{db: db, cfg: cfg}
	for name, want := range map[string]uint32{
		"bob": bob, "Robert Smith": bob, "2": bob, "coordinator": sysop, "Gone": sysop, "Nobody": sysop,
	} {
		u, err := fb.addressee(name)
		if err != nil || u.Number != want {
			t.Errorf("addressee(%q) = #%d, %v; want #%d", name, u.Number, err, want)
		}
	}
	in := ftn.Incoming{To: "Bob", Key: "msgid 1:2/1 1", Message: []byte("Subject: x\r\n\r\nhi\r\n")}
	for i, want := range []bool{false, true} {
		user, dup, err := fb.Deliver(context.Background(), in)
		if err != nil || dup != want || user != "Bob" {
			t.Errorf("delivery %d: %s dup=%v %v", i, user, dup, err)
		}
	}
}
