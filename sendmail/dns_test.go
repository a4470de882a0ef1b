package sendmail_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/bbsmail/bbsmail/sendmail"
)

// Mail exchangers come back best first, equal preferences in varying
// order; DNS answers that rule out delivery are told apart.
func TestResolverLookupMX(t *testing.T) {
	t.Parallel()
	d := startDNS(t, "mail.zone")
	for _, tcp := range []bool{false, true} {
		r, err := sendmail.NewResolver(d.Addr, tcp, "")
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		orders := map[string]bool{}
		for range 40 {
			hosts, err := r.LookupMX(ctx, "equal.test")
			if err != nil {
				t.Fatal(err)
			}
			if len(hosts) != 5 || hosts[0] != "first.equal.test" || hosts[4] != "last.equal.test" {
				t.Fatalf("hosts = %q", hosts)
			}
			mid := slices.Clone(hosts[1:4])
			slices.Sort(mid)
			if !slices.Equal(mid, []string{"a.equal.test", "b.equal.test", "c.equal.test"}) {
				t.Fatalf("hosts = %q", hosts)
			}
			orders[hosts[1]+hosts[2]+hosts[3]] = true
		}
		if len(orders) < 2 {
			t.Error("equal preferences always in the same order")
		}
		for dom, want := range map[string]error{
			"nxdomain.test": sendmail.ErrNoDomain,
			"nullmx.test":   sendmail.ErrNullMX,
			"nothing.test":  sendmail.ErrNoMailHost,
		} {
			if _, err := r.LookupMX(ctx, dom); !errors.Is(err, want) {
				t.Errorf("LookupMX(%s) = %v, want %v", dom, err, want)
			}
		}
		if hosts, err := r.LookupMX(ctx, "addronly.test"); err != nil || !slices.Equal(hosts, []string{"addronly.test"}) {
			t.Errorf("implicit MX = %q, %v", hosts, err)
		}
	}
}

// A DNS server that does not answer is a temporary failure, not a bounce.
func TestResolverDownIsTemporary(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.cfg.DNSServer = "127.0.0.1:1"
	id := e.q.add(sendmail.Entry{ReversePath: "sysop@bbs.example.org", Rcpt: "joe@example.test"}, testMsg)
	e.runOnce(t)
	ent, ok := e.q.get(id)
	if !ok || ent.Attempts != 1 || e.drop.count() != 0 {
		t.Fatalf("entry %+v present=%v bounces=%d", ent, ok, e.drop.count())
	}
}
