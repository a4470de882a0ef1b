package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"
)

// pop3Rows are the two POP3 shapes; the baseline column holds Dovecot.
type pop3Rows struct {
	logins, retrieval *row
}

func (b *bench) addPOP3Rows() pop3Rows {
	return pop3Rows{
		logins:    b.addRow(fmt.Sprintf("POP3 RETR/s, a login every %d (vs Dovecot)", pop3LoginEvery)),
		retrieval: b.addRow("POP3 RETR/s, one login per session (vs Dovecot)"),
	}
}

func (b *bench) pop3Users() []string {
	users := []string{benchUser}
	for i := 2; i <= b.cfg.clients; i++ {
		users = append(users, benchUser+strconv.Itoa(i))
	}
	return users
}

// pop3Shapes runs both shapes against addr and fills the figures.
func (b *bench) pop3Shapes(ctx context.Context, name, addr string, rows pop3Rows, pick func(*row) *figure) {
	users := b.pop3Users()
	// One untimed session per user first: Dovecot builds its index and
	// UID list at the first login, bbsmail has nothing of the kind to do.
	if res := runPOP3(ctx, pop3Spec{addr: addr, users: users, pass: benchPass, mailbox: b.cfg.pop3Mailbox,
		total: len(users), perLogin: 1}); res.firstErr != nil {
		b.fail(ctx, pick(rows.logins), "POP3 warm-up", res.firstErr)
		return
	}
	for _, shape := range []struct {
		r        *row
		perLogin int
	}{{rows.logins, pop3LoginEvery}, {rows.retrieval, 0}} {
		if ctx.Err() != nil {
			return
		}
		f := pick(shape.r)
		b.printf("== %s: %s\n", name, shape.r.name)
		res := runPOP3(ctx, pop3Spec{addr: addr, users: users, pass: benchPass, mailbox: b.cfg.pop3Mailbox,
			total: b.cfg.pop3Retr, perLogin: shape.perLogin})
		b.printf("   %d RETR, %d logins in %.3fs: %.1f RETR/s\n", res.retrs, res.logins, res.elapsed.Seconds(), res.rate())
		lat := summarize(res.loginLat)
		b.printf("   login (USER to +OK after PASS): %s\n", lat)
		if res.cpuOK && res.retrs > 0 {
			per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(res.retrs) }
			b.printf("   CPU per RETR: server and kernel %.1f µs, this client %.1f µs\n", per(res.restCPU), per(res.clientCPU))
		}
		if res.firstErr != nil {
			b.fail(ctx, f, "POP3 run", res.firstErr)
			b.printf("\n")
			continue
		}
		// The latency cells of these rows are the login's.
		*f = figure{rate: res.rate(), p50: lat.p50, p99: lat.p99}
		b.printf("\n")
	}
}

// bbsPOP3 starts bbsmail with a user per session, fills each mailbox over
// SMTP and runs the POP3 shapes.
func (b *bench) bbsPOP3(ctx context.Context, rows pop3Rows) {
	t, srv, err := b.startBBS(ctx, serverOpts{maxClients: b.maxClients(), pop3: true})
	if err != nil {
		b.fail(ctx, &rows.logins.bbs, "starting bbsmail", err)
		return
	}
	defer srv.stop(30 * time.Second)
	for _, u := range b.pop3Users()[1:] {
		if _, err := t.cli(ctx, benchPass+"\n", "user", "add", "--password", "-", u); err != nil {
			b.fail(ctx, &rows.logins.bbs, "adding users", err)
			return
		}
	}
	for _, u := range b.pop3Users() {
		res := runLoad(ctx, loadSpec{addr: t.smtpAddr(), clients: 4, messages: b.cfg.pop3Mailbox, size: b.cfg.size,
			reuse: true, from: extSender, to: u + "@bbs.test"})
		if res.accepted != b.cfg.pop3Mailbox {
			b.fail(ctx, &rows.logins.bbs, "filling the mailboxes", fmt.Errorf("%d of %d accepted: %v", res.accepted, b.cfg.pop3Mailbox, res.firstErr))
			return
		}
	}
	b.pop3Shapes(ctx, "bbsmail", net.JoinHostPort("127.0.0.1", strconv.Itoa(t.pop3)), rows, func(r *row) *figure { return &r.bbs })
}

func (b *bench) pop3Runs(ctx context.Context, rows pop3Rows) {
	b.bbsPOP3(ctx, rows)
	if ctx.Err() != nil {
		return
	}
	b.printf("== Dovecot baseline (POP3)\n")
	dv, err := newDovecot(ctx, b.procs, b.dir, b.pop3Users(), b.cfg.pop3Mailbox, b.cfg.size)
	if err != nil {
		b.printf("   skipped: %v\n\n", err)
		rows.logins.pf.note, rows.retrieval.pf.note = "no Dovecot", "no Dovecot"
		return
	}
	defer dv.stop()
	b.printf("\n")
	b.pop3Shapes(ctx, "Dovecot", dv.addr(), rows, func(r *row) *figure { return &r.pf })
}
