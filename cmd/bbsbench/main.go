// Command bbsbench measures bbsmail's throughput and latency on this
// machine and, where it can, Postfix's on the same machine as a baseline.
// It prints figures; it asserts nothing and is never part of `make test`.
//
// Every figure comes from a real `bbsmail serve` started fresh on a
// temporary copy of testdata/bbs, with free loopback ports, LogLevel
// Warning, NO_HOST_LOOKUP, and NO_SENDMAIL except while the outbound run
// drains its queue:
//
//   - inbound: -clients concurrent SMTP clients send -messages messages of
//     -size bytes (or send for -duration) to a local user, once with a new
//     connection per message and once over reused connections (RSET, MAIL,
//     RCPT, DATA). It prints accepted messages per second and the p50/p99
//     latency from MAIL to the 250 after the final dot, and per connection
//     from connect to the 221 after QUIT.
//   - smtp-source: when Postfix's load generator is installed, -messages
//     messages through it, a new connection per message and then reusing
//     connections (-d), timed by bbsbench.
//   - outbound: -outbound messages are submitted on port 587 while
//     SendMail is off; the server is restarted with SendMail relaying to
//     Postfix's smtp-sink (RELAY_TX) and default concurrency, and timed
//     until the queue is empty.
//   - logins: -logins SMTP clients, each from its own loopback address,
//     send a wrong AUTH PLAIN password at the same moment; it prints the
//     server's peak resident size (VmHWM) and its size afterwards.
//   - mail authentication (-mailauth): inbound over reused connections
//     with SPF, DKIM and DMARC checked for every message against a DNS
//     server in this process (every other run has the checks off), and the
//     outbound run again with DKIM signing by an RSA-2048 and an Ed25519
//     key, which happens while the queue fills.
//   - Postfix baseline (-postfix, root only): the same inbound and
//     outbound runs against a private Postfix instance on loopback with its
//     queue on disk, delivering to the same kind of sink; then smtp-source
//     once more against the instance configured with the discard transport
//     and peer-name lookups on (the faster baseline), and against smtp-sink
//     alone (which stores nothing: the machine's ceiling).
//   - idle connections: -idle SMTP clients connect, say EHLO and wait; it
//     prints the growth of the server's resident size per connection.
//   - POP3 (-pop3-retr): -clients sessions, a user and a mailbox of
//     -pop3-mailbox messages each, retrieve -pop3-retr messages in all,
//     logging in again every 200 messages and then once per session; the
//     same against a private Dovecot (root only; skipped with a message
//     when it is not installed) whose passwd-file holds {ARGON2ID} hashes
//     of bbsmail's cost.
//
// A summary table ends the output. docs/performance.md says what each
// figure means and records the figures measured on the project machine.
//
// Usage (from the repository root, after `make build`):
//
//	go run ./cmd/bbsbench -bin bin/bbsmail [-clients 20] [-messages 5000 | -duration 10s]
//	    [-size 4096] [-outbound 2000] [-postfix=true] [-smtp-source=true] [-mailauth=true] [-keep]
//	    [-sendmail-concurrency N] [-sendmail-per-host N] [-logins 200]
//	    [-pop3-retr 20000] [-pop3-mailbox 200] [-idle 5000]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

// config is the command line.
type config struct {
	bin        string
	tree       string
	clients    int
	messages   int
	duration   time.Duration
	size       int
	outbound   int
	postfix    bool
	smtpSource bool
	mailAuth   bool // the mail authentication runs
	keep       bool
	// SendMailConcurrency and SendMailPerHost for the outbound run; 0
	// leaves the server's defaults, which is what the figure is about.
	sendConc    int
	sendPerHost int
	// logins is the number of concurrent failed logins of the memory
	// run; 0 skips it.
	logins int
	// idle is the number of idle SMTP connections of the memory run; 0
	// skips it.
	idle int
	// The POP3 runs (pop3.go): off when pop3Retr is 0.
	pop3Retr    int
	pop3Mailbox int
	// pop3Big is the mailbox of the login + STAT run (pop3big.go); 0
	// skips it.
	pop3Big int
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("bbsbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.bin, "bin", "bin/bbsmail", "the bbsmail binary to measure (build it without -race)")
	fs.StringVar(&c.tree, "tree", "testdata/bbs", "the sample BBS tree each run copies")
	fs.IntVar(&c.clients, "clients", 20, "concurrent SMTP clients (and smtp-source sessions)")
	fs.IntVar(&c.messages, "messages", 5000, "messages per inbound run (smtp-source always sends this many)")
	fs.DurationVar(&c.duration, "duration", 0, "run each inbound run of the built-in client this long instead of -messages")
	fs.IntVar(&c.size, "size", 4096, "message size in bytes (header included; smtp-source's -l payload)")
	fs.IntVar(&c.outbound, "outbound", 2000, "messages for the outbound run (0 skips it)")
	fs.BoolVar(&c.postfix, "postfix", true, "also measure a private Postfix instance as the baseline (needs root)")
	fs.BoolVar(&c.smtpSource, "smtp-source", true, "also run Postfix's smtp-source when installed")
	fs.BoolVar(&c.mailAuth, "mailauth", true, "also run inbound with SPF/DKIM/DMARC checks and outbound with DKIM signing")
	fs.IntVar(&c.sendConc, "sendmail-concurrency", 0, "SendMailConcurrency for the outbound run (0: the server's default)")
	fs.IntVar(&c.sendPerHost, "sendmail-per-host", 0, "SendMailPerHost for the outbound run (0: the server's default)")
	fs.IntVar(&c.logins, "logins", 200, "concurrent failed SMTP logins for the memory run (0 skips it)")
	fs.IntVar(&c.idle, "idle", 5000, "idle SMTP connections for the memory-per-connection run (0 skips it)")
	fs.IntVar(&c.pop3Retr, "pop3-retr", 20000, "RETRs per POP3 run, over -clients sessions (0 skips the POP3 runs)")
	fs.IntVar(&c.pop3Mailbox, "pop3-mailbox", 200, "messages in each POP3 session's mailbox")
	fs.IntVar(&c.pop3Big, "pop3-big", 100000, "messages in the mailbox of the login + STAT run (0 skips it)")
	fs.BoolVar(&c.keep, "keep", false, "keep the temporary directory (trees, logs, Postfix queue) for inspection")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case c.clients < 1 || c.clients > 1000:
		return c, errors.New("-clients must be 1..1000")
	case c.messages < 1 && c.duration <= 0:
		return c, errors.New("-messages must be at least 1 (or give -duration)")
	case c.size < 256 || c.size > 10<<20:
		return c, errors.New("-size must be 256 bytes..10 MiB")
	case c.outbound < 0:
		return c, errors.New("-outbound must not be negative")
	case c.pop3Big < 0:
		return c, errors.New("-pop3-big must not be negative")
	case c.pop3Retr < 0 || c.pop3Mailbox < 1 || c.pop3Mailbox > 100000:
		return c, errors.New("-pop3-retr must not be negative, -pop3-mailbox must be 1..100000")
	case c.idle < 0 || c.idle > 60000:
		return c, errors.New("-idle must be 0..60000")
	case c.logins < 0 || c.logins > 5000:
		return c, errors.New("-logins must be 0..5000")
	case c.sendConc < 0 || c.sendConc > 1000 || c.sendPerHost < 0 || c.sendPerHost > 1000:
		return c, errors.New("-sendmail-concurrency and -sendmail-per-host must be 0..1000")
	}
	if fi, err := os.Stat(filepath.Join(c.tree, "ctrl")); err != nil || !fi.IsDir() {
		return c, fmt.Errorf("-tree %s: not a BBS tree with a ctrl directory (run from the repository root)", c.tree)
	}
	bin, err := filepath.Abs(c.bin)
	if err != nil {
		return c, err
	}
	if _, err := os.Stat(bin); err != nil {
		return c, fmt.Errorf("%s: %w (run `make build` first)", c.bin, err)
	}
	c.bin = bin
	return c, nil
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "bbsbench:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp("", "bbsbench-")
	if err != nil {
		fmt.Fprintln(stderr, "bbsbench:", err)
		return 1
	}
	p := &procs{}
	// Children first, then their files.
	defer func() {
		p.stopAll()
		if cfg.keep {
			fmt.Fprintln(stdout, "kept", dir)
		} else {
			os.RemoveAll(dir)
		}
	}()
	b := &bench{cfg: cfg, procs: p, dir: dir, out: stdout}
	b.header()
	b.runAll(ctx)
	b.summary()
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "bbsbench: interrupted")
		return 130
	}
	if b.failed {
		return 1
	}
	return 0
}
