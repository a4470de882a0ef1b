package mailauth

import (
	"bytes"
	"context"
	"crypto"
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/internal/testkit"
)

// inbound is a message from example.test, signed in the tests below.
const inbound = "From: Carol <carol@example.test>\r\nTo: sysop@bbs.test\r\nSubject: inbound\r\n" +
	"Date: Mon, 7 Dec 2026 01:00:00 +0000\r\nMessage-ID: <1@example.test>\r\n\r\nHello.\r\n"

type testKey struct {
	sel, dom string
	signer   crypto.Signer
}

func newTestKey(t *testing.T, sel, dom string) testKey {
	t.Helper()
	k, _, err := GenerateKey("ed25519", 0)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{sel, dom, k}
}

// record is the key's TXT record as a zone-file line.
func (k testKey) record(t *testing.T) string {
	t.Helper()
	rec, err := TXTRecord(k.signer.Public())
	if err != nil {
		t.Fatal(err)
	}
	return ZoneLine(RecordName(k.sel, k.dom), rec)
}

func (k testKey) sign(t *testing.T, msg string) string {
	t.Helper()
	f, err := SignWith(Key{Domain: k.dom, Selector: k.sel, Signer: k.signer}, []byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	return string(f) + msg
}

// The inbound cases: SPF on MAIL FROM (or HELO), DKIM of each signature,
// DMARC with alignment, all from the DNS server. Each case names the
// verdict a reader of Authentication-Results would see.
func TestCheck(t *testing.T) {
	good := newTestKey(t, "s1", "example.test")
	other := newTestKey(t, "s1", "other.test")
	unpublished := newTestKey(t, "s2", "example.test")
	wrong := newTestKey(t, "s3", "example.test") // its record holds good's key
	dnsSrv := testkit.StartDNS(t,
		good.record(t), other.record(t),
		strings.Replace(good.record(t), "s1._domainkey", "s3._domainkey", 1),
		`example.test. IN TXT "v=spf1 ip4:192.0.2.1 -all"`,
		`soft.test. IN TXT "v=spf1 ip4:192.0.2.1 ~all"`,
		`helo.test. IN TXT "v=spf1 ip4:192.0.2.9 -all"`,
		`_dmarc.example.test. IN TXT "v=DMARC1; p=reject"`,
		`_dmarc.quarantine.test. IN TXT "v=DMARC1; p=quarantine"`,
		`_dmarc.none.test. IN TXT "v=DMARC1; p=none"`,
		`_dmarc.org.test. IN TXT "v=DMARC1; p=none; sp=reject"`,
		`quarantine.test. IN TXT "v=spf1 -all"`,
	)
	dnsSrv.Fail("broken.test.")
	dnsSrv.Fail("_dmarc.broken.test.")
	c := &Checker{Resolver: dnsSrv.Resolver(), Timeout: 10 * time.Second}
	from := func(dom string) string { return strings.Replace(inbound, "carol@example.test", "carol@"+dom, 1) }
	cases := []struct {
		name           string
		ip, helo, mail string
		msg            string
		spf, dmarc     Result
		dkim           []Result
		policy         Policy
	}{
		{"aligned signature and SPF pass", "192.0.2.1", "mx.example.test", "carol@example.test", good.sign(t, inbound), Pass, Pass, []Result{Pass}, PolicyReject},
		{"body altered", "192.0.2.7", "mx", "carol@example.test", good.sign(t, inbound) + "P.S.\r\n", Fail, Fail, []Result{Fail}, PolicyReject},
		{"header altered", "192.0.2.7", "mx", "carol@example.test", strings.Replace(good.sign(t, inbound), "Subject: inbound", "Subject: changed", 1), Fail, Fail, []Result{Fail}, PolicyReject},
		{"wrong key", "192.0.2.7", "mx", "carol@example.test", wrong.sign(t, inbound), Fail, Fail, []Result{Fail}, PolicyReject},
		{"missing key record", "192.0.2.7", "mx", "carol@example.test", unpublished.sign(t, inbound), Fail, Fail, []Result{PermError}, PolicyReject},
		{"unaligned signature, SPF pass aligned", "192.0.2.1", "mx", "bounce@example.test", other.sign(t, inbound), Pass, Pass, []Result{Pass}, PolicyReject},
		{"unaligned signature only", "192.0.2.7", "mx", "x@other.test", other.sign(t, inbound), None, Fail, []Result{Pass}, PolicyReject},
		{"unsigned, p=quarantine", "192.0.2.7", "mx", "carol@quarantine.test", from("quarantine.test"), Fail, Fail, nil, PolicyQuarantine},
		{"unsigned, p=none", "192.0.2.7", "mx", "carol@none.test", from("none.test"), None, Fail, nil, PolicyNone},
		{"subdomain takes sp=", "192.0.2.7", "mx", "carol@a.org.test", from("a.org.test"), None, Fail, nil, PolicyReject},
		{"SPF softfail, no DMARC record", "192.0.2.7", "mx", "carol@soft.test", from("soft.test"), SoftFail, None, nil, ""},
		{"SPF temperror", "192.0.2.7", "mx", "carol@broken.test", from("broken.test"), TempError, TempError, nil, ""},
		{"null path checks HELO", "192.0.2.9", "helo.test", "", from("nowhere.test"), Pass, None, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := c.Check(context.Background(), Input{IP: tc.ip, Helo: tc.helo, MailFrom: tc.mail, Msg: []byte(tc.msg)})
			var dk []Result
			for _, d := range v.DKIM {
				dk = append(dk, d.Result)
			}
			if v.SPF.Result != tc.spf || v.DMARC.Result != tc.dmarc || fmt.Sprint(dk) != fmt.Sprint(tc.dkim) {
				t.Errorf("got %s (%+v), want spf=%s dkim=%v dmarc=%s", v.Summary(), v, tc.spf, tc.dkim, tc.dmarc)
			}
			if f := string(v.Field("bbs.test")); strings.Contains(f, " on ") {
				t.Errorf("the field names our resolver: %s", f)
			}
			if tc.dmarc == Fail && v.DMARC.Policy != tc.policy {
				t.Errorf("policy %q, want %q", v.DMARC.Policy, tc.policy)
			}
		})
	}
}

func TestField(t *testing.T) {
	v := Verdict{
		SPF:   SPF{Result: Pass, Domain: "example.test", Sender: "carol@example.test"},
		DKIM:  []DKIM{{Result: Pass, Domain: "example.test"}, {Result: Fail, Domain: "list.test", Reason: "body hash did not verify"}},
		DMARC: DMARC{Result: Pass, From: "example.test"},
	}
	want := "Authentication-Results: bbs.test;\r\n\tspf=pass smtp.mailfrom=carol@example.test;\r\n\tdkim=pass header.d=example.test;\r\n" +
		"\tdkim=fail reason=\"body hash did not verify\" header.d=list.test;\r\n\tdmarc=pass header.from=example.test\r\n"
	if got := string(v.Field("bbs.test")); got != want {
		t.Errorf("Field:\n%q\nwant\n%q", got, want)
	}
	null := Verdict{SPF: SPF{Result: None, Domain: "helo.test", Helo: true, Sender: "postmaster@helo.test"}, DMARC: DMARC{Result: None}}
	if got := string(null.Field("bbs.test")); !strings.Contains(got, "spf=none smtp.helo=helo.test;") || !strings.Contains(got, "dkim=none;") {
		t.Errorf("null path Field: %q", got)
	}
}

// Values a client or a sender's domain controls (the HELO name, MAIL
// FROM, a From or d= domain, a reason quoting DNS text) cannot end a
// quoted string or add a result of their own: quotes, backslashes,
// control and 8-bit bytes are written as "?".
func TestFieldHostileValues(t *testing.T) {
	for _, bad := range []string{`x\";dkim=pass`, `x\`, "a\"b", "gr\xfc\r\n.example", `q\"`} {
		v := Verdict{
			SPF:   SPF{Result: None, Domain: bad, Helo: true, Reason: bad},
			DKIM:  []DKIM{{Result: Fail, Domain: bad, Reason: bad}},
			DMARC: DMARC{Result: None, From: bad, Reason: bad},
		}
		from := Verdict{SPF: SPF{Result: Fail, Domain: "x.test", Sender: bad + "@x.test"}, DMARC: DMARC{Result: None}}
		for _, f := range []string{string(v.Field("bbs.test")), string(from.Field("bbs.test"))} {
			for _, line := range strings.Split(strings.TrimSuffix(f, "\r\n"), "\r\n") {
				outside := quoted.ReplaceAllString(line, "")
				if strings.Count(line, `"`)%2 != 0 || strings.Contains(line, `\`) || strings.Contains(outside, "=pass") {
					t.Errorf("%q gives the line %q", bad, line)
				}
				for i := 0; i < len(line); i++ {
					if line[i] >= 0x7f || line[i] < ' ' && line[i] != '\t' {
						t.Errorf("%q gives byte %#x in %q", bad, line[i], line)
					}
				}
			}
		}
	}
}

var quoted = regexp.MustCompile(`"[^"]*"`)

func TestStripForged(t *testing.T) {
	body := "\r\nAuthentication-Results: bbs.test; spf=pass\r\n"
	cases := []struct{ in, want string }{
		{"Authentication-Results: bbs.test; dmarc=pass\r\nSubject: x\r\n" + body, "Subject: x\r\n" + body},
		{"Subject: x\r\nAuthentication-Results: (forged)\r\n BBS.TEST 1;\r\n dkim=pass\r\nTo: y\r\n" + body, "Subject: x\r\nTo: y\r\n" + body},
		{"Authentication-Results: mx.google.test; dkim=pass\r\nSubject: x\r\n" + body, "Authentication-Results: mx.google.test; dkim=pass\r\nSubject: x\r\n" + body},
		{"Authentication-Results: bbs.test.evil; dkim=pass\r\n" + body, "Authentication-Results: bbs.test.evil; dkim=pass\r\n" + body},
	}
	for _, c := range cases {
		got, n := StripForged([]byte(c.in), "bbs.test")
		if string(got) != c.want {
			t.Errorf("StripForged(%q) = %q (%d removed), want %q", c.in, got, n, c.want)
		}
	}
	in := []byte("Subject: x\r\n\r\nbody")
	if out, n := StripForged(in, "bbs.test"); n != 0 || !bytes.Equal(out, in) {
		t.Error("a message without the field changed")
	}
}

func TestDecide(t *testing.T) {
	dmarcFail := func(p Policy) Verdict {
		return Verdict{SPF: SPF{Result: None}, DMARC: DMARC{Result: Fail, From: "example.test", Policy: p}}
	}
	spf := func(r Result) Verdict {
		return Verdict{SPF: SPF{Result: r, Domain: "example.test"}, DMARC: DMARC{Result: None}}
	}
	all := Rules{DMARCReject: true, DMARCQuarantine: true, SPFFail: Refuse}
	cases := []struct {
		name  string
		rules Rules
		v     Verdict
		want  Action
		code  string
	}{
		{"defaults never act", Rules{}, dmarcFail(PolicyReject), Accept, ""},
		{"reject refused", all, dmarcFail(PolicyReject), Refuse, "5.7.1"},
		{"reject tagged when refusing is off", Rules{DMARCQuarantine: true}, dmarcFail(PolicyReject), Tag, ""},
		{"quarantine tagged", all, dmarcFail(PolicyQuarantine), Tag, ""},
		{"p=none left alone", all, dmarcFail(PolicyNone), Accept, ""},
		{"DMARC temperror never refuses", all, Verdict{DMARC: DMARC{Result: TempError, Policy: PolicyReject}}, Accept, ""},
		{"SPF fail refused", all, spf(Fail), Refuse, "5.7.23"},
		{"SPF fail tagged", Rules{SPFFail: Tag}, spf(Fail), Tag, ""},
		{"SPF softfail left alone", all, spf(SoftFail), Accept, ""},
		{"SPF temperror left alone", all, spf(TempError), Accept, ""},
	}
	for _, c := range cases {
		d := c.rules.Decide(c.v)
		if d.Action != c.want || (c.code != "" && d.Enhanced != c.code) {
			t.Errorf("%s: %v %s (%s), want %v %s", c.name, d.Action, d.Enhanced, d.Reason, c.want, c.code)
		}
	}
}

// A DNS server that never answers: every check ends as temperror when the
// per-message time runs out, and the strictest rules still accept the
// message.
func TestCheckTimeout(t *testing.T) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	silent := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", pc.LocalAddr().String())
	}}
	c := &Checker{Resolver: silent, Timeout: 300 * time.Millisecond}
	k := newTestKey(t, "s1", "example.test")
	v := c.Check(context.Background(), Input{IP: "192.0.2.1", Helo: "mx", MailFrom: "carol@example.test", Msg: []byte(k.sign(t, inbound))})
	if v.SPF.Result != TempError || len(v.DKIM) != 1 || v.DKIM[0].Result != TempError || v.DMARC.Result != TempError {
		t.Errorf("got %s, want temperror everywhere", v.Summary())
	}
	if d := (Rules{DMARCReject: true, DMARCQuarantine: true, SPFFail: Refuse}).Decide(v); d.Action != Accept {
		t.Errorf("a DNS timeout led to %v (%s)", d.Action, d.Reason)
	}
}
