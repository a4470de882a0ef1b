package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Addresses used by every run. bbs.test is the system address of the
// sample BBS (testdata/bbs/ctrl/msgs.ini); sink.test is anything else.
const (
	benchUser  = "bench"
	benchPass  = "bench-pass"
	localRcpt  = "bench@bbs.test"
	remoteRcpt = "bench@sink.test"
	extSender  = "a@example.org"
)

// bbsTree is one temporary copy of the sample BBS and the server run on it.
type bbsTree struct {
	bin  string
	root string
	ctrl string
	log  string // the server's log file
	smtp int
	sub  int
	pop3 int
}

// serverOpts are the sbbs.ini settings a run varies.
type serverOpts struct {
	maxClients int
	sendmail   bool // run SendMail (else NO_SENDMAIL)
	relayPort  int  // with sendmail: RELAY_TX to 127.0.0.1:relayPort
	submission bool // listen on the submission port and let users relay
	sendConc   int  // SendMailConcurrency when > 0
	perHost    int  // SendMailPerHost when > 0
	// mailAuth turns the SPF/DKIM/DMARC checks on (every other run has
	// them off, so its figures are those of the plain path); dnsServer is
	// then the local server that answers them.
	mailAuth  bool
	dnsServer string
	// dkim, "rsa" or "ed25519", makes a signing key of that type and
	// turns DKIMSign on.
	dkim string
	pop3 bool // ALLOW_POP3
}

// newTree copies the sample tree src to a fresh directory under parent and
// picks free loopback ports for it.
func newTree(bin, src, parent, name string) (*bbsTree, error) {
	root := filepath.Join(parent, name)
	if err := copyTree(src, root); err != nil {
		return nil, fmt.Errorf("copying %s: %w", src, err)
	}
	p, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	return &bbsTree{bin: bin, root: root, ctrl: filepath.Join(root, "ctrl"),
		log: filepath.Join(root, "server.log"), smtp: p[0], sub: p[1], pop3: p[2]}, nil
}

func (t *bbsTree) smtpAddr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(t.smtp)) }
func (t *bbsTree) subAddr() string  { return net.JoinHostPort("127.0.0.1", strconv.Itoa(t.sub)) }

// writeIni writes ctrl/sbbs.ini: loopback only, Warning logging so that
// log lines do not dominate the figures, no host lookups, and
// MaxMsgsWaiting 0 so thousands of messages may wait for one user; and an
// empty mailproc.ini.
func (t *bbsTree) writeIni(o serverOpts) error {
	opts := []string{"NO_HOST_LOOKUP"}
	if !o.sendmail {
		opts = append(opts, "NO_SENDMAIL")
	}
	if o.submission {
		opts = append(opts, "USE_SUBMISSION_PORT", "ALLOW_RELAY")
	}
	if o.pop3 {
		opts = append(opts, "ALLOW_POP3")
	}
	var b bytes.Buffer
	b.WriteString("; written by bbsbench\n[Global]\n")
	fmt.Fprintf(&b, "\tInterface = 127.0.0.1\n\tLogLevel = Warning\n\tBindRetryCount = 0\n\tLoginAttemptDelay = 0\n")
	b.WriteString("\n[Mail]\n")
	fmt.Fprintf(&b, "\tSMTPPort = %d\n\tSubmissionPort = %d\n\tPOP3Port = %d\n", t.smtp, t.sub, t.pop3)
	fmt.Fprintf(&b, "\tMaxClients = %d\n\tMaxMsgsWaiting = 0\n\tMaxInactivity = 1m\n", o.maxClients)
	// A DNS server nobody answers on, unless the run has its own local
	// one: nothing the bench does may leave the machine.
	dns := "127.0.0.1:1"
	if o.dnsServer != "" {
		dns = o.dnsServer
	}
	fmt.Fprintf(&b, "\tDNSServer = %s\n\tMailAuthCheck = %t\n", dns, o.mailAuth)
	if o.dkim != "" {
		b.WriteString("\tDKIMSign = true\n")
	}
	if o.sendmail && o.relayPort > 0 {
		opts = append(opts, "RELAY_TX")
		fmt.Fprintf(&b, "\tRelayServer = 127.0.0.1\n\tRelayPort = %d\n", o.relayPort)
	}
	if o.sendConc > 0 {
		fmt.Fprintf(&b, "\tSendMailConcurrency = %d\n", o.sendConc)
	}
	if o.perHost > 0 {
		fmt.Fprintf(&b, "\tSendMailPerHost = %d\n", o.perHost)
	}
	fmt.Fprintf(&b, "\tOptions = %s\n", strings.Join(opts, " | "))
	if err := os.WriteFile(filepath.Join(t.ctrl, "sbbs.ini"), b.Bytes(), 0o644); err != nil {
		return err
	}
	// No mail processors: the Postfix baseline runs no content filter
	// either, and the stock file's scripts are not installed here.
	return os.WriteFile(filepath.Join(t.ctrl, "mailproc.ini"), []byte("; no mail processors in the benchmark\n"), 0o644)
}

// cli runs a bbsmail command against this tree.
func (t *bbsTree) cli(ctx context.Context, stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return runCmd(ctx, strings.NewReader(stdin), t.bin, append(args, "-ctrl", t.ctrl)...)
}

// addUser creates the user the bench delivers to and submits as.
func (t *bbsTree) addUser(ctx context.Context) error {
	_, err := t.cli(ctx, benchPass+"\n", "user", "add", "--password", "-", benchUser)
	return err
}

// start writes sbbs.ini, runs `bbsmail serve` and waits until its SMTP
// port accepts connections.
func (t *bbsTree) start(ctx context.Context, p *procs, o serverOpts) (*child, error) {
	if err := t.writeIni(o); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(t.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close() // the child holds its own descriptor
	cmd := exec.Command(t.bin, "serve", "-ctrl", t.ctrl)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), "SBBSCTRL=")
	c, err := p.start("bbsmail serve", cmd)
	if err != nil {
		return nil, err
	}
	if err := waitPort(ctx, c, t.smtpAddr(), 30*time.Second); err != nil {
		c.stop(10 * time.Second)
		return nil, fmt.Errorf("bbsmail serve: %w\n%s", err, t.logTail())
	}
	return c, nil
}

// queueLen is the number of entries `bbsmail queue list` shows.
func (t *bbsTree) queueLen(ctx context.Context) (int, error) {
	out, err := t.cli(ctx, "", "queue", "list")
	if err != nil {
		return 0, err
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	n, ok := strings.CutSuffix(last, " entries")
	if !ok {
		return 0, fmt.Errorf("queue list ended with %q, want \"N entries\"", last)
	}
	return strconv.Atoi(n)
}

// mailboxLen is the number of messages `bbsmail mail list` shows for the
// bench user: one line each under a heading.
func (t *bbsTree) mailboxLen(ctx context.Context) (int, error) {
	out, err := t.cli(ctx, "", "mail", "list", benchUser)
	if err != nil {
		return 0, err
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return len(lines) - 1, nil
}

// logTail is the end of the server log, for error messages.
func (t *bbsTree) logTail() string {
	return fileTail(t.log, 30)
}

// fileTail returns the last n lines of a file, or why it cannot.
func fileTail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "--- " + path + "\n" + strings.Join(lines, "\n")
}

// waitPort polls addr until it accepts a connection, the child exits, or
// limit passes.
func waitPort(ctx context.Context, c *child, addr string, limit time.Duration) error {
	return waitUntil(ctx, limit, "port "+addr+" to accept", func() (bool, error) {
		if c != nil && c.exited() {
			return false, fmt.Errorf("exited before %s accepted (%v)", addr, c.err)
		}
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false, nil
		}
		conn.Close()
		return true, nil
	})
}

// waitUntil polls cond every 10 ms until it holds, fails, ctx ends or limit
// passes.
func waitUntil(ctx context.Context, limit time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v waiting for %s", limit, what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// freePorts returns n loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var out []int
	for range n {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

// copyTree copies the regular files and directories under src to dst.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}
