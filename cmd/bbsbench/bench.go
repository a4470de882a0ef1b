package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"
)

// bench runs the measurements in order and collects the summary.
type bench struct {
	cfg    config
	procs  *procs
	dir    string
	out    io.Writer
	rows   []*row
	failed bool
	seq    int    // numbers the temporary trees
	source string // smtp-source, "" when not run
	sink   string // smtp-sink, "" when absent
}

// row is one line of the summary: a figure for bbsmail and for Postfix.
type row struct {
	name    string
	bbs, pf figure
}

// figure is one measurement: a rate, latencies, or why there is none.
type figure struct {
	rate     float64 // messages per second; 0 = none
	p50, p99 time.Duration
	note     string
}

func (b *bench) addRow(name string) *row {
	r := &row{name: name}
	b.rows = append(b.rows, r)
	return r
}

func (b *bench) printf(format string, args ...any) { fmt.Fprintf(b.out, format, args...) }

// fail reports an error of one run; the other runs go on. After an
// interrupt the error is only its echo and is not reported.
func (b *bench) fail(ctx context.Context, f *figure, what string, err error) {
	if ctx.Err() != nil {
		f.note = "interrupted"
		return
	}
	b.failed = true
	f.note = "failed"
	b.printf("   FAILED %s: %v\n", what, err)
}

func (b *bench) header() {
	c := b.cfg
	b.printf("bbsbench: %s, %d CPUs, GOMAXPROCS %d\n", runtime.GOOS+"/"+runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	work := fmt.Sprintf("%d messages", c.messages)
	if c.duration > 0 {
		work = "for " + c.duration.String()
	}
	b.printf("server %s; %d clients, %s of %d bytes per inbound run; %d messages outbound\n", c.bin, c.clients, work, c.size, c.outbound)
	if c.sendConc > 0 || c.sendPerHost > 0 {
		b.printf("outbound with SendMailConcurrency %d, SendMailPerHost %d (0 = default)\n", c.sendConc, c.sendPerHost)
	}
	// Other work on the machine skews every figure; say how busy it was.
	if avg, err := os.ReadFile("/proc/loadavg"); err == nil {
		b.printf("load average before the runs: %s", avg)
	}
	b.printf("\n")
}

// inboundRows are the summary rows of the inbound runs.
type inboundRows struct {
	fresh, freshConn, reuse, source, sourceReuse *row
}

// target is a server the inbound runs measure.
type target struct {
	name string
	rcpt string
	// begin readies the server for one run and returns its address and
	// a function that ends the run and says how many messages the server
	// holds afterwards.
	begin func(ctx context.Context) (addr string, end func() (int, error), err error)
	pick  func(*row) *figure
}

func (b *bench) runAll(ctx context.Context) {
	if b.cfg.smtpSource {
		if b.source = findTool("smtp-source"); b.source == "" {
			b.printf("smtp-source not found (Debian package postfix): its runs are skipped\n\n")
		}
	}
	b.sink = findTool("smtp-sink")
	rows := inboundRows{
		fresh:       b.addRow("inbound, new connection per message"),
		freshConn:   b.addRow("  same run, per connection (latency)"),
		reuse:       b.addRow("inbound, reused connections"),
		source:      b.addRow("inbound, smtp-source"),
		sourceReuse: b.addRow("inbound, smtp-source -d (reused)"),
	}
	base := b.addBaselineRows()
	outRow := b.addRow("outbound, full queue to smtp-sink")
	var loginRow *row
	if b.cfg.logins > 0 {
		loginRow = b.addRow(fmt.Sprintf("%d concurrent failed logins, memory", b.cfg.logins))
		loginRow.pf.note = "-"
	}
	var idleRow *row
	if b.cfg.idle > 0 {
		idleRow = b.addRow(fmt.Sprintf("%d idle SMTP connections, RSS", b.cfg.idle))
		idleRow.pf.note = "-"
	}
	var pop3 *pop3Rows
	if b.cfg.pop3Retr > 0 {
		r := b.addPOP3Rows()
		pop3 = &r
	}
	var bigRow *row
	if b.cfg.pop3Big > 0 {
		bigRow = b.addRow(fmt.Sprintf("POP3 login + STAT, %d messages", b.cfg.pop3Big))
		bigRow.pf.note = "-"
	}
	fillRow := b.addRow("  queueing on port 587, DKIM off")
	fillRow.pf.note = "n/a"
	auth := b.addAuthRows()

	b.inbound(ctx, b.bbsTarget(), rows)
	base.copySource(rows.source)
	if ctx.Err() != nil {
		return
	}
	b.sinkRun(ctx, &base.sink.pf)
	if ctx.Err() != nil {
		return
	}
	if idleRow != nil {
		b.idle(ctx, &idleRow.bbs)
		if ctx.Err() != nil {
			return
		}
	}
	if pop3 != nil {
		b.pop3Runs(ctx, *pop3)
		if ctx.Err() != nil {
			return
		}
	}
	if bigRow != nil {
		b.pop3Big(ctx, &bigRow.bbs)
		if ctx.Err() != nil {
			return
		}
	}
	if loginRow != nil {
		b.logins(ctx, &loginRow.bbs)
		if ctx.Err() != nil {
			return
		}
	}
	b.bbsOutbound(ctx, &outRow.bbs, &fillRow.bbs)
	if ctx.Err() != nil {
		return
	}
	b.authRuns(ctx, auth)
	if ctx.Err() != nil {
		return
	}
	if !b.cfg.postfix {
		notePostfix(b.rows, "not run (-postfix=false)")
		return
	}
	b.printf("== Postfix baseline\n")
	pf, err := newPostfix(ctx, b.dir)
	if err != nil {
		b.printf("   skipped: %v\n\n", err)
		notePostfix(b.rows, "skipped")
		return
	}
	if b.sink == "" {
		b.printf("   smtp-sink not found: Postfix relays to a port nobody listens on, so nothing is delivered\n")
	}
	b.postfixRuns(ctx, pf, rows, &outRow.pf)
	if ctx.Err() == nil {
		b.discardRun(ctx, pf, &base.discard.pf)
	}
}

func notePostfix(rows []*row, note string) {
	for _, r := range rows {
		if r.pf.rate == 0 && r.pf.p50 == 0 && r.pf.note == "" {
			r.pf.note = note
		}
	}
}

// postfixRuns measures the private Postfix instance: inbound with every
// message held in its deferred queue, then delivery of a full queue.
func (b *bench) postfixRuns(ctx context.Context, pf *postfixInst, rows inboundRows, out *figure) {
	sinkPort := 1
	var sk *sink
	if b.sink != "" {
		var err error
		if sk, err = startSink(ctx, b.procs, b.sink); err != nil {
			b.fail(ctx, out, "smtp-sink", err)
			return
		}
		defer sk.proc.stop(5 * time.Second)
		sinkPort = sk.port
	}
	pf.relayPort = sinkPort
	if err := pf.start(ctx, b.procs, true); err != nil {
		if ctx.Err() != nil {
			return
		}
		b.printf("   Postfix did not start: %v\n\n", err)
		notePostfix(b.rows, "did not start")
		b.failed = true
		return
	}
	b.inbound(ctx, b.postfixTarget(pf), rows)
	pf.stop()
	if ctx.Err() != nil {
		return
	}
	b.postfixOutbound(ctx, pf, sk, out)
}

// inbound runs the built-in client in both modes and smtp-source against
// t, each on a freshly readied server.
func (b *bench) inbound(ctx context.Context, t target, rows inboundRows) {
	c := b.cfg
	runs := []struct {
		row    *row
		reuse  bool
		source bool
	}{{rows.fresh, false, false}, {rows.reuse, true, false}, {rows.source, false, true}, {rows.sourceReuse, true, true}}
	for _, r := range runs {
		if ctx.Err() != nil {
			return
		}
		f := t.pick(r.row)
		if r.source && b.source == "" {
			f.note = "no smtp-source"
			continue
		}
		b.printf("== %s: %s\n", t.name, r.row.name)
		addr, end, err := t.begin(ctx)
		if err != nil {
			b.fail(ctx, f, "preparing the server", err)
			continue
		}
		var accepted int
		if r.source {
			accepted = b.sourceRun(ctx, addr, t.rcpt, r.reuse, f)
		} else {
			spec := loadSpec{addr: addr, clients: c.clients, messages: c.messages, duration: c.duration,
				size: c.size, reuse: r.reuse, from: extSender, to: t.rcpt}
			accepted = b.loadRun(ctx, spec, f, t.pick(rows.freshConn))
		}
		held, err := end()
		switch {
		case ctx.Err() != nil:
			return
		case f.note != "":
			// The run failed and said so; the count would only repeat it.
		case err != nil:
			b.printf("   (could not count the stored messages: %v)\n", err)
		case held != accepted:
			b.printf("   WARNING: %d messages accepted but %d stored\n", accepted, held)
			b.failed = true
		default:
			b.printf("   all %d accepted messages are stored\n", held)
		}
		b.printf("\n")
	}
}

// loadRun runs the built-in client and reports it; connFig receives the
// per-connection latencies of a new-connection run.
func (b *bench) loadRun(ctx context.Context, spec loadSpec, f, connFig *figure) int {
	res := runLoad(ctx, spec)
	b.printf("   %d accepted, %d failed in %.3fs: %.1f msgs/s\n", res.accepted, res.failed, res.elapsed.Seconds(), res.rate())
	if res.firstErr != nil {
		b.printf("   first error: %v\n", res.firstErr)
	}
	if res.accepted == 0 {
		b.fail(ctx, f, "run", errors.New("no message accepted"))
		return 0
	}
	if res.failed > 0 {
		b.failed = true
	}
	ms := summarize(res.msgLat)
	b.printf("   per message (MAIL to 250 after DATA):        %s\n", ms)
	*f = figure{rate: res.rate(), p50: ms.p50, p99: ms.p99}
	if !spec.reuse {
		cs := summarize(res.connLat)
		b.printf("   per connection (connect to 221 after QUIT): %s\n", cs)
		*connFig = figure{p50: cs.p50, p99: cs.p99}
	}
	return res.accepted
}

// sourceRun times smtp-source and reports it.
func (b *bench) sourceRun(ctx context.Context, addr, rcpt string, reuse bool, f *figure) int {
	r, err := runSource(ctx, b.source, addr, b.cfg.messages, b.cfg.clients, b.cfg.size, reuse, rcpt)
	b.printf("   smtp-source %v\n", r.args)
	if err != nil {
		b.fail(ctx, f, "smtp-source", err)
		return 0
	}
	b.printf("   %d messages in %.3fs: %.1f msgs/s\n", r.n, r.elapsed.Seconds(), r.rate())
	f.rate = r.rate()
	return r.n
}

// bbsTarget starts a fresh bbsmail on a fresh tree for every run.
func (b *bench) bbsTarget() target {
	return target{name: "bbsmail", rcpt: localRcpt, pick: func(r *row) *figure { return &r.bbs },
		begin: func(ctx context.Context) (string, func() (int, error), error) {
			t, srv, err := b.startBBS(ctx, serverOpts{maxClients: b.maxClients()})
			if err != nil {
				return "", nil, err
			}
			cpu := startCPU(srv.cmd.Process.Pid)
			return t.smtpAddr(), func() (int, error) {
				defer srv.stop(30 * time.Second)
				cpu.stop() // before the count, which the server also works for
				n, err := t.mailboxLen(ctx)
				cpu.report(b, n)
				return n, err
			}, nil
		}}
}

// postfixTarget empties the running instance's queue before each run.
func (b *bench) postfixTarget(pf *postfixInst) target {
	return target{name: "Postfix", rcpt: remoteRcpt, pick: func(r *row) *figure { return &r.pf },
		begin: func(ctx context.Context) (string, func() (int, error), error) {
			if err := pf.clear(ctx); err != nil {
				return "", nil, err
			}
			return pf.addr(), func() (int, error) {
				// Accepted mail is safe in the queue; let the queue manager
				// finish moving it to the deferred queue before counting.
				if err := pf.waitSettled(ctx, 2*time.Minute); err != nil {
					return 0, err
				}
				return pf.count("deferred")
			}, nil
		}}
}

func (b *bench) maxClients() int { return max(200, 2*b.cfg.clients) }

// startBBS copies the sample tree, adds the bench user and starts the
// server.
func (b *bench) startBBS(ctx context.Context, o serverOpts) (*bbsTree, *child, error) {
	b.seq++
	t, err := newTree(b.cfg.bin, b.cfg.tree, b.dir, fmt.Sprintf("bbs%d", b.seq))
	if err != nil {
		return nil, nil, err
	}
	if err := t.addUser(ctx); err != nil {
		return nil, nil, err
	}
	if o.dkim != "" {
		if _, err := t.cli(ctx, "", "dkim", "keygen", "--type", o.dkim); err != nil {
			return nil, nil, err
		}
	}
	srv, err := t.start(ctx, b.procs, o)
	if err != nil {
		return nil, nil, err
	}
	return t, srv, nil
}
