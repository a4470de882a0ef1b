package mailauth

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/internal/testkit"
)

// BenchmarkCheck is one message's SPF, DKIM (RSA-2048) and DMARC checks
// against a loopback DNS server.
func BenchmarkCheck(b *testing.B) {
	key, _, err := GenerateKey("rsa", 2048)
	if err != nil {
		b.Fatal(err)
	}
	rec, _ := TXTRecord(key.Public())
	d := testkit.StartDNS(b, ZoneLine(RecordName("s1", "example.test"), rec),
		`example.test. IN TXT "v=spf1 ip4:192.0.2.1 -all"`, `_dmarc.example.test. IN TXT "v=DMARC1; p=reject"`)
	c := &Checker{Resolver: d.Resolver(), Timeout: 10 * time.Second}
	msg := []byte(inbound + strings.Repeat("The quick brown fox jumps over the lazy dog.\r\n", 90))
	f, err := SignWith(Key{Domain: "example.test", Selector: "s1", Signer: key}, msg)
	if err != nil {
		b.Fatal(err)
	}
	in := Input{IP: "192.0.2.1", Helo: "mx", MailFrom: "carol@example.test", Msg: append(f, msg...)}
	b.ResetTimer()
	for b.Loop() {
		if v := c.Check(context.Background(), in); v.DMARC.Result != Pass || v.DKIM[0].Result != Pass {
			b.Fatal(v.Summary())
		}
	}
}
