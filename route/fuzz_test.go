package route_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/route"
)

// FuzzResolve feeds arbitrary RCPT TO arguments through every step. Seeds
// live in testdata/fuzz/FuzzResolve. Resolution must never panic, must
// answer either a recipient or a proper 4xx/5xx reply, and a remote
// recipient must never be a .fidonet address (which would reach the DNS),
// and a session that may not relay must never get a remote recipient that
// alias.cfg did not spell out.
func FuzzResolve(f *testing.F) {
	cfg := baseConfig(f)
	cfg.RealNames, cfg.SysopAliases, cfg.RxByNumber = true, true, true
	cfg.DefaultUser = "digital man"
	cfg.Aliases = append(wildcardAliases, cfg.Aliases...)
	exact := map[string]bool{}
	for _, a := range cfg.Aliases {
		if !strings.HasPrefix(a.Value, "*") {
			exact[a.Value] = true
		}
	}
	r := route.New(cfg, newDir())
	f.Fuzz(func(t *testing.T, arg string, telegram, mayRelay bool) {
		q := envelope.RcptQuery{Arg: arg, Telegram: telegram, MayRelay: mayRelay, Port: 25}
		rc, err := r.Resolve(context.Background(), q)
		if err != nil {
			var rep *envelope.Reply
			if !errors.As(err, &rep) {
				t.Fatalf("Resolve(%q) = non-reply error %v", arg, err)
			}
			if rep.Code < 400 || rep.Code > 599 || rep.Enhanced == "" {
				t.Fatalf("Resolve(%q) = bad reply %+v", arg, rep)
			}
			return
		}
		if rc.Kind == envelope.KindRemote && strings.HasSuffix(strings.ToLower(rc.NetAddr), ".fidonet") {
			t.Fatalf("Resolve(%q) queued FidoNet address %q for the Internet", arg, rc.NetAddr)
		}
		// A session that may not relay reaches another host only through an
		// address the sysop wrote out in alias.cfg (or a user's forwarding).
		if !mayRelay && rc.Kind == envelope.KindRemote && !rc.Forwarded && !exact[rc.NetAddr] {
			t.Fatalf("Resolve(%q) relayed to %q for a session that may not relay", arg, rc.NetAddr)
		}
		if telegram && rc.Kind != envelope.KindMailbox {
			t.Fatalf("telegram Resolve(%q) = %+v; want a mailbox", arg, rc)
		}
		if rc.Kind == envelope.KindMailbox && rc.User == 0 {
			t.Fatalf("Resolve(%q) = mailbox of user 0", arg)
		}
	})
}
