package test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// binkdConf writes a binkd configuration for the BBS tree root with our
// address addr and one node, and returns its path.
func binkdConf(t *testing.T, root, addr, node string, port int) string {
	t.Helper()
	fido := filepath.Join(root, "fido")
	for _, d := range []string{"outbound", "inbound", "nonsecure", "temp"} {
		if err := os.MkdirAll(filepath.Join(fido, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	conf := fmt.Sprintf(`domain fidonet %[1]s/outbound 1
address %[2]s@fidonet
sysname "test"
sysop "test"
location "test"
nodeinfo 115200,TCP,BINKP
log %[3]s/binkd.log
loglevel 6
conlog 0
inbound %[1]s/inbound
inbound-nonsecure %[1]s/nonsecure
temp-inbound %[1]s/temp
bindaddr 127.0.0.1
iport %[4]d
oport %[4]d
pid-file %[3]s/binkd.pid
%[5]s
`, fido, addr, root, port, node)
	path := filepath.Join(root, "binkd.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestFidoNetBinkd carries netmail between two bbsmail systems with the
// mailer a sysop runs: bbsmail at 1:2/3 writes the packet into its BSO,
// binkd polls 1:2/4's binkd on loopback with a session password, and
// bbsmail at 1:2/4 tosses what arrived in its secure inbound into Bob's
// mailbox.
func TestFidoNetBinkd(t *testing.T) {
	t.Parallel()
	binkd := needTool(t, "binkd", "binkd")
	port := freePorts(t, 1)[0]

	b := newBBS(t)
	b.routingFTN("1:2/4")
	b.mail["FidoFrequency"] = "1h"
	b.start()
	b.addUser("Sysop", routingPW)
	b.addUser("Bob", routingPW, "--realname", "Bob Smith")
	srv := exec.Command(binkd, "-s", binkdConf(t, b.root, "1:2/4", "node 1:2/3@fidonet - SessPw", port))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	waitFor(t, 30*time.Second, "binkd to listen", func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})

	a := newBBS(t)
	a.routingFTN("1:2/3")
	a.mail["FidoFrequency"] = "1h"
	a.start()
	a.addUser("Sysop", routingPW)
	a.addUser("Alice", routingPW)
	a.routingMustSend(routingMsg{port: a.ports.Submission, from: "alice@bbs.test", to: []string{"bob.smith@f4.n2.z1.fidonet"},
		subject: "over binkp", body: "Hello Bob, this came by binkd.\n", auth: []string{"alice", routingPW}})
	out := filepath.Join(a.root, "fido", "outbound", "00020004.out")
	waitFor(t, 30*time.Second, "the packet for 1:2/4", func() bool { return fileExists(out) })

	if rows := routingRows(a.must("netmail", "list")); len(rows) != 1 || !strings.Contains(rows[0], " packed ") {
		t.Errorf("before binkd ran, want the netmail packed into %s:\n%s", out, strings.Join(rows, "\n"))
	}
	confA := binkdConf(t, a.root, "1:2/3", fmt.Sprintf("node 1:2/4@fidonet 127.0.0.1:%d SessPw", port), freePorts(t, 1)[0])
	var log []byte
	for try := 1; fileExists(out); try++ {
		// -p: exit when the poll is done; -P: poll this node.
		cmd := exec.Command(binkd, "-p", "-P", "1:2/4", "-c", confA)
		log, _ = cmd.CombinedOutput()
		if try == 3 && fileExists(out) {
			logA, _ := os.ReadFile(filepath.Join(a.root, "binkd.log"))
			logB, _ := os.ReadFile(filepath.Join(b.root, "binkd.log"))
			t.Fatalf("binkd did not send %s:\n%s\nclient log:\n%s\nserver log:\n%s", out, log, logA, logB)
		}
	}
	// binkd removed the packet it sent: the sender's list says so.
	if rows := routingRows(a.must("netmail", "list")); len(rows) != 1 || !strings.Contains(rows[0], " sent ") || !strings.Contains(rows[0], out) {
		t.Errorf("after binkd sent %s, want the netmail sent:\n%s", out, strings.Join(rows, "\n"))
	}
	b.must("netmail", "scan")
	waitFor(t, 30*time.Second, "the netmail in Bob's mailbox", func() bool {
		rows := b.routingMailbox("bob")
		return len(rows) == 1 && strings.Contains(rows[0], "over binkp")
	})
	got := python(t, "fidonet_pop3.py", "127.0.0.1", itoa(b.ports.POP3), "Bob", routingPW)
	for _, want := range []string{"From: Alice <alice@bbs.test>", "Subject: over binkp", "Hello Bob, this came by binkd."} {
		if !strings.Contains(got, want) {
			t.Errorf("Bob's mailbox lacks %q:\n%s", want, got)
		}
	}
}
