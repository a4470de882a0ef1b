package test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The mail authentication system tests: outbound DKIM signatures checked
// by dkimpy (a verifier nobody here wrote) with the key record that
// `bbsmail dkim keygen` printed, served by the in-process DNS server.
// docs/mail-auth.md describes the behaviour.

// dkimPython returns a python3 that can import dkimpy and PyNaCl (for
// Ed25519), or skips the test. The first python3 on PATH may be a private
// build without Debian's packages, so the system one is tried too.
func dkimPython(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(py, "-c", "import dkim, nacl, dns.resolver").Run() == nil {
			return py
		}
	}
	t.Skip("dkimpy not found: install the Debian packages python3-dkim and python3-nacl to run this interop test")
	return ""
}

// dkimVerify runs dkimpy on msg, looking keys up at dnsAddr, and returns
// "pass" or "fail".
func dkimVerify(t *testing.T, py string, msg []byte, dnsAddr string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "msg.eml")
	if err := os.WriteFile(f, msg, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, filepath.Join("testdata", "interop", "dkim_verify.py"), f, dnsAddr)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("dkim_verify.py: %v\n%s%s\nmessage:\n%s", err, out.String(), errOut.String(), msg)
	}
	return strings.TrimSpace(out.String())
}

// dkimKeygen runs `bbsmail dkim keygen` with args and returns the
// zone-file line it printed.
func (b *bbs) dkimKeygen(args ...string) string {
	b.t.Helper()
	out := b.must(append([]string{"dkim", "keygen"}, args...)...)
	for line := range strings.SplitSeq(out, "\n") {
		if strings.Contains(line, " IN TXT ") {
			return strings.TrimSpace(line)
		}
	}
	b.t.Fatalf("dkim keygen printed no TXT record:\n%s", out)
	return ""
}

// Mail a user sends to the Internet arrives signed, and dkimpy verifies
// the signature with the record keygen printed, pasted into the DNS
// server as is; a changed body fails, so the check is real. Both key
// types.
func TestDKIMOutboundVerifiedByDkimpy(t *testing.T) {
	t.Parallel()
	py := dkimPython(t)
	for _, typ := range []string{"rsa", "ed25519"} {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			b := newBBS(t)
			b.mail["Options"] = outboundOptions
			b.mail["DKIMSign"] = "true"
			b.writeIni()
			record := b.dkimKeygen("--type", typ)
			if fi, err := os.Stat(filepath.Join(b.ctrl, "dkim_mail.pem")); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("key file: %v, mode %v; want mode 0600", err, fi.Mode())
			}
			peer := startOutboundPeer(t, "", "")
			dns := startOutboundDNS(t, append(outboundMXRecords("remote.test"), record))
			b.mail["DNSServer"] = dns.addr
			b.mail["MXPort"] = itoa(peer.port)
			b.start()
			b.addUser("Sysop", outboundPW)
			b.addUser("Alice", outboundPW)
			b.outboundSubmit([]string{"user@remote.test", "other@remote.test"}, "dkim-"+typ, "Signed body.\\n\\nLast line.  ")

			var msgs []outboundMsg
			if !routingPoll(30*time.Second, func() bool { msgs = peer.messages(); return len(msgs) > 0 }) {
				t.Fatalf("nothing arrived at the peer; DNS questions: %v", dns.queries())
			}
			data := msgs[0].data
			if n := bytes.Count(data, []byte("DKIM-Signature:")); n != 1 {
				t.Fatalf("%d DKIM-Signature fields, want 1:\n%s", n, data)
			}
			if got := dkimVerify(t, py, data, dns.addr); got != "pass" {
				t.Errorf("dkimpy says %s for:\n%s", got, data)
			}
			altered := bytes.Replace(data, []byte("Signed body."), []byte("Signed body!"), 1)
			if got := dkimVerify(t, py, altered, dns.addr); got != "fail" {
				t.Errorf("dkimpy says %s for an altered body, want fail", got)
			}
			if typ == "ed25519" && !bytes.Contains(data, []byte("a=ed25519-sha256")) {
				t.Errorf("not an Ed25519 signature:\n%s", data)
			}
		})
	}
}

// DKIMSign without its key stops both `bbsmail check` and the server, and
// the error names the file; keygen refuses to overwrite a key without
// --force.
func TestDKIMMissingKey(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.mail["DKIMSign"] = "true"
	b.mail["DKIMSelector"] = "s1"
	b.writeIni()
	key := filepath.Join(b.ctrl, "dkim_s1.pem")
	for _, cmd := range []string{"check", "serve"} {
		_, errOut, code := b.run("", cmd)
		if code == 0 || !strings.Contains(errOut, key) {
			t.Errorf("bbsmail %s without the key: exit %d, stderr %q; want a failure naming %s", cmd, code, errOut, key)
		}
	}
	b.dkimKeygen()
	if _, errOut, code := b.run("", "check"); code != 0 {
		t.Errorf("check with the key: exit %d: %s", code, errOut)
	}
	if _, errOut, code := b.run("", "dkim", "keygen"); code == 0 || !strings.Contains(errOut, "--force") {
		t.Errorf("keygen over an existing key: exit %d, %q; want a refusal that mentions --force", code, errOut)
	}
	b.dkimKeygen("--force")
}

// `bbsmail dkim check` finds the published record through DNSServer and
// says whether it is the key on disk.
func TestDKIMCheckCommand(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.mail["DKIMSign"] = "true"
	b.writeIni()
	record := b.dkimKeygen("--type", "ed25519")
	other := strings.Replace(record, "mail._domainkey", "old._domainkey", 1)
	dns := startOutboundDNS(t, []string{record, other})
	b.mail["DNSServer"] = dns.addr
	b.writeIni()
	if out := b.must("dkim", "check"); !strings.Contains(out, "matches") {
		t.Errorf("dkim check: %q, want a match", out)
	}
	// A key whose record is not published.
	b.dkimKeygen("--type", "ed25519", "--force")
	if _, errOut, code := b.run("", "dkim", "check"); code == 0 || !strings.Contains(errOut, "no published record matches") {
		t.Errorf("dkim check with a new key: exit %d, %q; want a mismatch", code, errOut)
	}
}
