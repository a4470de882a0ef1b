package test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/mailauth"
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

// inboundKey writes a new RSA key for dkimpy (PKCS#1 PEM) to dir/name.pem
// and returns the file and the record that publishes it at
// sel._domainkey.dom.
func inboundKey(t *testing.T, dir, name, sel, dom string) (file, record string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	file = filepath.Join(dir, name+".pem")
	p := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	if err := os.WriteFile(file, p, 0o600); err != nil {
		t.Fatal(err)
	}
	rec, err := mailauth.TXTRecord(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return file, mailauth.ZoneLine(mailauth.RecordName(sel, dom), rec)
}

// inboundCase is one message sent to the sysop by a stranger.
type inboundCase struct {
	name     string
	src      string // client address: 127.0.0.2 is in the test domains' SPF, 127.0.0.3 is not
	from     string // MAIL FROM and From
	key      string // "" = unsigned, else key file
	sel, dom string
	alter    string
	extra    string // header lines added in front
	want     string // SENT 250 or the refusal
	results  []string
}

// Inbound mail from strangers, signed by dkimpy and sent by smtplib,
// through the real server with SPF, DKIM and DMARC answered by the
// in-process DNS server: each stored copy carries our
// Authentication-Results with the expected verdicts; with DMARCReject and
// DMARCQuarantine on, a p=reject failure is refused with 550 5.7.1 and a
// p=quarantine failure is stored as spam; an Authentication-Results
// claiming our host name is removed, another host's kept.
func TestMailAuthInbound(t *testing.T) {
	t.Parallel()
	py := dkimPython(t)
	dir := t.TempDir()
	keyA, recNone := inboundKey(t, dir, "a", "s1", "none.test")
	keyB, _ := inboundKey(t, dir, "b", "s1", "none.test")
	recReject := strings.Replace(recNone, "s1._domainkey.none.test", "s1._domainkey.reject.test", 1)
	recOther := strings.Replace(recNone, "s1._domainkey.none.test", "s1._domainkey.other.test", 1)
	spf := func(d, rule string) string { return d + `. IN TXT "v=spf1 ` + rule + `"` }
	dmarc := func(d, p string) string { return "_dmarc." + d + `. IN TXT "v=DMARC1; p=` + p + `"` }
	dnsSrv := startOutboundDNS(t, []string{recNone, recReject, recOther,
		spf("none.test", "ip4:127.0.0.2 -all"), dmarc("none.test", "none"),
		spf("reject.test", "ip4:127.0.0.2 -all"), dmarc("reject.test", "reject"),
		spf("quarantine.test", "ip4:127.0.0.2 -all"), dmarc("quarantine.test", "quarantine"),
		spf("soft.test", "~all"),
	})
	b := newBBS(t)
	coreWrite(t, filepath.Join(b.ctrl, "ipfilter_exempt.cfg"), "; nobody is exempt here\n")
	b.mail["DNSServer"] = dnsSrv.addr
	b.mail["DMARCReject"] = "true"
	b.mail["DMARCQuarantine"] = "true"
	b.start()
	b.addUser("Sysop", "Mailauth-Pass-1")

	const in, out = "127.0.0.2", "127.0.0.3"
	signedA := func(dom string) (string, string, string) { return keyA, "s1", dom }
	cases := []inboundCase{
		{name: "good", src: in, from: "carol@none.test", want: "SENT 250",
			results: []string{"spf=pass smtp.mailfrom=carol@none.test", "dkim=pass header.d=none.test", "dmarc=pass header.from=none.test"}},
		{name: "body altered", src: in, from: "carol@none.test", alter: "body", want: "SENT 250",
			results: []string{"spf=pass", "dkim=fail", "dmarc=pass"}},
		{name: "header altered", src: in, from: "carol@none.test", alter: "header", want: "SENT 250",
			results: []string{"dkim=fail"}},
		{name: "wrong key", src: out, from: "carol@none.test", key: keyB, sel: "s1", dom: "none.test", want: "SENT 250",
			results: []string{"spf=fail", "dkim=fail", "dmarc=fail"}},
		{name: "missing record", src: in, from: "carol@none.test", key: keyA, sel: "s9", dom: "none.test", want: "SENT 250",
			results: []string{"dkim=permerror"}},
		{name: "softfail", src: out, from: "dave@soft.test", want: "SENT 250", results: []string{"spf=softfail", "dkim=none", "dmarc=none"}},
		{name: "no SPF record", src: out, from: "erin@nowhere.test", want: "SENT 250", results: []string{"spf=none"}},
		{name: "reject unaligned", src: out, from: "frank@reject.test", key: keyA, sel: "s1", dom: "other.test",
			want: "REFUSED 550 5.7.1 Message refused: DMARC policy of reject.test (p=reject)"},
		{name: "reject aligned", src: out, from: "frank@reject.test", want: "SENT 250", results: []string{"spf=fail", "dkim=pass header.d=reject.test", "dmarc=pass"}},
		{name: "quarantine", src: out, from: "gina@quarantine.test", want: "SENT 250", results: []string{"spf=fail", "dmarc=fail"}},
		{name: "forged results", src: in, from: "carol@none.test", want: "SENT 250",
			extra:   "Authentication-Results: bbs.test; dkim=pass header.d=paypal.test\r\nAuthentication-Results: mx.elsewhere.test; spf=pass\r\n",
			results: []string{"dkim=pass header.d=none.test"}},
	}
	for i := range cases {
		c := &cases[i]
		if c.key == "" && c.want == "SENT 250" && c.name != "softfail" && c.name != "no SPF record" && c.name != "quarantine" {
			c.key, c.sel, c.dom = signedA(strings.SplitN(c.from, "@", 2)[1])
		}
	}
	for _, c := range cases {
		subject := "mailauth " + c.name
		msg := c.extra + "From: <" + c.from + ">\r\nTo: <sysop@bbs.test>\r\nSubject: " + subject + "\r\n\r\nHello from " + c.from + ".\r\n"
		f := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".eml")
		if err := os.WriteFile(f, []byte(msg), 0o644); err != nil {
			t.Fatal(err)
		}
		args := []string{filepath.Join("testdata", "interop", "mailauth_send.py"), coreHost, itoa(b.ports.SMTP), c.src, c.from, "sysop@bbs.test", f}
		if c.key != "" {
			args = append(args, c.key, c.sel, c.dom, c.alter)
		}
		outb, err := exec.Command(py, args...).CombinedOutput()
		if got := strings.TrimSpace(string(outb)); err != nil || !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: %q (%v), want %q", c.name, got, err, c.want)
			continue
		}
		if c.want != "SENT 250" {
			continue
		}
		stored := b.mailauthStored("sysop", subject)
		hdr, _, _ := strings.Cut(stored, "\r\n\r\n")
		unfolded := strings.ReplaceAll(hdr, ";\r\n\t", "; ")
		if n := strings.Count(hdr, "Authentication-Results: bbs.test;"); n != 1 {
			t.Errorf("%s: %d Authentication-Results of ours, want 1:\n%s", c.name, n, hdr)
		}
		for _, r := range c.results {
			if !strings.Contains(unfolded, "; "+r) {
				t.Errorf("%s: Authentication-Results lack %q:\n%s", c.name, r, hdr)
			}
		}
		switch c.name {
		case "forged results":
			if strings.Contains(hdr, "paypal.test") || !strings.Contains(hdr, "Authentication-Results: mx.elsewhere.test; spf=pass") {
				t.Errorf("forged results: want ours only for bbs.test and the other host's kept:\n%s", hdr)
			}
		case "quarantine":
			if !strings.Contains(hdr, "Subject: SPAM: mailauth quarantine") || strings.Contains(hdr, "SPAM: SPAM:") || !strings.Contains(hdr, "X-Spam-Flag: YES (DMARC policy of quarantine.test (p=quarantine)") {
				t.Errorf("quarantined message not tagged:\n%s", hdr)
			}
		}
	}
	if row, ok := routingRowWith(b.routingMailbox("sysop"), "mailauth quarantine"); !ok || !strings.Contains(row, "spam") {
		t.Errorf("the quarantined message is not flagged spam: %q", row)
	}
	if row, ok := routingRowWith(b.routingMailbox("sysop"), "mailauth good"); !ok || strings.Contains(row, "spam") {
		t.Errorf("a good message is flagged spam: %q", row)
	}
	if !b.logContains("dmarc=fail (reject.test p=reject)") {
		t.Error("the log does not show the refused message's verdict")
	}
}

// mailauthStored returns the stored message of alias whose subject
// contains subject, as `bbsmail mail read` prints it.
func (b *bbs) mailauthStored(alias, subject string) string {
	b.t.Helper()
	row, ok := routingRowWith(b.routingMailbox(alias), subject)
	if !ok {
		b.t.Fatalf("no message %q for %s", subject, alias)
	}
	return b.must("mail", "read", alias, routingFields(row)[0])
}

// mailauthSend sends text (unsigned) from src with mailauth_send.py and
// returns what the script printed.
func (b *bbs) mailauthSend(py, src, from, text string) string {
	b.t.Helper()
	f := filepath.Join(b.t.TempDir(), "msg.eml")
	if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
		b.t.Fatal(err)
	}
	out, err := exec.Command(py, filepath.Join("testdata", "interop", "mailauth_send.py"), coreHost, itoa(b.ports.SMTP),
		src, from, "sysop@bbs.test", f).CombinedOutput()
	if err != nil {
		b.t.Fatalf("mailauth_send.py: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// SPFFail = refuse refuses a client the sender's SPF record excludes with
// 550 5.7.23, and lets softfail through; with every rule on, a DNS server
// that never answers costs MailAuthTimeout and the message is accepted
// with temperror verdicts.
func TestMailAuthSPFRefuseAndTimeout(t *testing.T) {
	t.Parallel()
	py := dkimPython(t)
	msg := func(from string) string {
		return "From: <" + from + ">\r\nTo: <sysop@bbs.test>\r\nSubject: spf " + from + "\r\n\r\nHello.\r\n"
	}
	t.Run("refuse", func(t *testing.T) {
		t.Parallel()
		dnsSrv := startOutboundDNS(t, []string{`fail.test. IN TXT "v=spf1 ip4:127.0.0.2 -all"`, `soft.test. IN TXT "v=spf1 ~all"`})
		b := newBBS(t)
		coreWrite(t, filepath.Join(b.ctrl, "ipfilter_exempt.cfg"), "; nobody is exempt here\n")
		b.mail["DNSServer"] = dnsSrv.addr
		b.mail["SPFFail"] = "refuse"
		b.start()
		b.addUser("Sysop", "Mailauth-Pass-1")
		if got := b.mailauthSend(py, "127.0.0.3", "x@fail.test", msg("x@fail.test")); !strings.HasPrefix(got, "REFUSED 550 5.7.23 ") {
			t.Errorf("SPF fail: %q, want 550 5.7.23", got)
		}
		if got := b.mailauthSend(py, "127.0.0.2", "x@fail.test", msg("x@fail.test")); got != "SENT 250" {
			t.Errorf("SPF pass: %q", got)
		}
		if got := b.mailauthSend(py, "127.0.0.3", "x@soft.test", msg("x@soft.test")); got != "SENT 250" {
			t.Errorf("SPF softfail: %q", got)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		silent, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer silent.Close()
		b := newBBS(t)
		coreWrite(t, filepath.Join(b.ctrl, "ipfilter_exempt.cfg"), "; nobody is exempt here\n")
		b.mail["DNSServer"] = silent.LocalAddr().String()
		b.mail["MailAuthTimeout"] = "1s"
		b.mail["SPFFail"] = "refuse"
		b.mail["DMARCReject"] = "true"
		b.mail["DMARCQuarantine"] = "true"
		b.start()
		b.addUser("Sysop", "Mailauth-Pass-1")
		if got := b.mailauthSend(py, "127.0.0.3", "x@slow.test", msg("x@slow.test")); got != "SENT 250" {
			t.Fatalf("with a silent DNS server: %q, want SENT 250", got)
		}
		stored := b.mailauthStored("sysop", "spf x@slow.test")
		if !strings.Contains(stored, "spf=temperror") || !strings.Contains(stored, "dmarc=temperror") {
			t.Errorf("want temperror verdicts:\n%s", stored)
		}
	})
}
