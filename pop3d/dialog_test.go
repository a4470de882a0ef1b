package pop3d_test

import (
	"bufio"
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/pop3d"
)

// ioTimeout bounds every client read and write: a hung server fails the
// test instead of stalling it. It is not a timing assertion.
const ioTimeout = 10 * time.Second

// TestDialogs runs every testdata/dialogs/*.txt transcript against its own
// server. The format is described in testdata/dialogs/README.md.
func TestDialogs(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/dialogs/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no dialogs found: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			t.Parallel()
			runDialog(t, file)
		})
	}
}

type step struct {
	line      int
	directive string
	arg       string
}

type dialog struct {
	t       *testing.T
	file    string
	ts      *testServer
	implTLS bool
	conns   map[string]*client
	cur     *client
	vars    map[string]string
	checks  []step // deleted/read, checked after the server has stopped
}

type client struct {
	conn net.Conn
	r    *bufio.Reader
}

func parseDialog(t *testing.T, file string) (cfg pop3d.Config, tlsOn, implTLS bool, steps []step) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, raw := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		if strings.TrimSpace(raw) == "" || strings.HasPrefix(raw, "#") {
			continue
		}
		var st step
		st.line = i + 1
		if len(raw) >= 2 && (raw[:2] == "C:" || raw[:2] == "S:" || raw[:2] == "S~") {
			st.directive, st.arg = raw[:2], strings.TrimPrefix(raw[2:], " ")
		} else {
			st.directive, st.arg, _ = strings.Cut(raw, " ")
		}
		if st.directive != "config" {
			steps = append(steps, st)
			continue
		}
		for _, opt := range strings.Fields(st.arg) {
			key, val, _ := strings.Cut(opt, "=")
			n, _ := strconv.Atoi(val)
			switch key {
			case "tls":
				tlsOn = true
			case "implicit-tls":
				implTLS = true
			case "noread":
				cfg.NoReadPOP3 = true
			case "killreadspam":
				cfg.KillReadSpam = true
			case "maxbad":
				cfg.MaxBadCommands = n
			case "maxclients":
				cfg.MaxClients = n
			case "maxconnsperip":
				cfg.MaxConnsPerIP = n
			case "noplaintext":
				cfg.DisablePlaintextAuth = true
			case "idle":
				if cfg.MaxInactivity, err = time.ParseDuration(val); err != nil {
					t.Fatalf("%s:%d: %v", file, st.line, err)
				}
			default:
				t.Fatalf("%s:%d: unknown config option %q", file, st.line, key)
			}
		}
	}
	return cfg, tlsOn, implTLS, steps
}

func runDialog(t *testing.T, file string) {
	cfg, tlsOn, implTLS, steps := parseDialog(t, file)
	d := &dialog{t: t, file: file, implTLS: implTLS, conns: map[string]*client{}, vars: map[string]string{}}
	d.ts = startServer(t, cfg, tlsOn, implTLS)
	defer func() {
		for _, c := range d.conns {
			_ = c.conn.Close()
		}
	}()
	for _, st := range steps {
		d.step(st)
	}
	d.ts.stop(t)
	for _, st := range d.checks {
		d.check(st)
	}
}

func (d *dialog) fail(st step, format string, args ...any) {
	d.t.Helper()
	d.t.Fatalf("%s:%d: %s %s: %s", d.file, st.line, st.directive, st.arg, fmt.Sprintf(format, args...))
}

// expand replaces ${name} with a captured or computed variable.
func (d *dialog) expand(s string) string {
	return regexp.MustCompile(`\$\{(\w+)\}`).ReplaceAllStringFunc(s, func(m string) string {
		return d.vars[m[2:len(m)-1]]
	})
}

func (d *dialog) client(st step) *client {
	if d.cur == nil {
		d.connect(st, "main")
	}
	return d.cur
}

func (d *dialog) connect(st step, name string) { d.connectFrom(st, name, "") }

// connectFrom switches to connection name, opening it from the local
// address from ("" = any) if it is new.
func (d *dialog) connectFrom(st step, name, from string) {
	if c, ok := d.conns[name]; ok {
		d.cur = c
		return
	}
	dialer := net.Dialer{Timeout: ioTimeout}
	if from != "" {
		dialer.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	conn, err := dialer.Dial("tcp", d.ts.addr)
	if err != nil {
		d.fail(st, "dial: %v", err)
	}
	if d.implTLS {
		conn = tls.Client(conn, d.ts.clientTLS())
	}
	d.cur = &client{conn: conn, r: bufio.NewReader(conn)}
	d.conns[name] = d.cur
}

func (d *dialog) readLine(st step) string {
	c := d.client(st)
	_ = c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	line, err := c.r.ReadString('\n')
	if err != nil {
		d.fail(st, "read: %v (got %q)", err, line)
	}
	if !strings.HasSuffix(line, "\r\n") {
		d.fail(st, "line %q does not end with CRLF", line)
	}
	return strings.TrimSuffix(line, "\r\n")
}

func (d *dialog) write(st step, s string) {
	c := d.client(st)
	_ = c.conn.SetWriteDeadline(time.Now().Add(ioTimeout))
	if _, err := io.WriteString(c.conn, s); err != nil {
		d.fail(st, "write: %v", err)
	}
}

func (d *dialog) step(st step) {
	d.t.Helper()
	switch st.directive {
	case "C:":
		d.write(st, d.expand(st.arg)+"\r\n")
	case "raw":
		d.write(st, strings.NewReplacer(`\r`, "\r", `\n`, "\n").Replace(d.expand(st.arg)))
	case "S:":
		if got, want := d.readLine(st), d.expand(st.arg); got != want {
			d.fail(st, "got %q", got)
		}
	case "S~":
		re, err := regexp.Compile("^(?:" + d.expand(st.arg) + ")$")
		if err != nil {
			d.fail(st, "bad regexp: %v", err)
		}
		got := d.readLine(st)
		m := re.FindStringSubmatch(got)
		if m == nil {
			d.fail(st, "got %q", got)
		}
		for i, name := range re.SubexpNames() {
			if name != "" {
				d.vars[name] = m[i]
			}
		}
	case "md5":
		name, text, _ := strings.Cut(st.arg, " ")
		sum := md5.Sum([]byte(d.expand(text)))
		d.vars[name] = hex.EncodeToString(sum[:])
	case "conn":
		name, from, _ := strings.Cut(st.arg, " ")
		d.connectFrom(st, name, from)
	case "starttls":
		c := d.client(st)
		tc := tls.Client(c.conn, d.ts.clientTLS())
		_ = tc.SetDeadline(time.Now().Add(ioTimeout))
		if err := tc.Handshake(); err != nil {
			d.fail(st, "handshake: %v", err)
		}
		_ = tc.SetDeadline(time.Time{})
		c.conn, c.r = tc, bufio.NewReader(tc)
	case "closed":
		c := d.client(st)
		_ = c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
		if line, err := c.r.ReadString('\n'); err == nil || !errors.Is(err, io.EOF) && !isReset(err) {
			d.fail(st, "want the server to close; got %q, %v", line, err)
		}
	case "drop":
		_ = d.client(st).conn.Close()
	case "relogin":
		d.relogin(st)
	case "deleted", "read":
		d.checks = append(d.checks, st)
	default:
		d.fail(st, "unknown directive")
	}
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op)
}

// relogin logs in with USER/PASS on fresh connections until the mailbox is
// free: the server releases a mailbox only once it has noticed that the
// previous session's client went away.
func (d *dialog) relogin(st step) {
	user, pass, _ := strings.Cut(st.arg, " ")
	deadline := time.Now().Add(ioTimeout)
	for attempt := 0; ; attempt++ {
		name := fmt.Sprintf("relogin-%d-%d", st.line, attempt)
		d.connect(st, name)
		d.readLine(st) // greeting
		d.write(st, "USER "+user+"\r\nPASS "+pass+"\r\n")
		d.readLine(st)
		got := d.readLine(st)
		if strings.HasPrefix(got, "+OK") {
			return
		}
		if got != "-ERR [IN-USE] Mailbox already locked" || time.Now().After(deadline) {
			d.fail(st, "login answer %q", got)
		}
		_ = d.cur.conn.Close()
		time.Sleep(10 * time.Millisecond) // pace the retries; not an assertion
	}
}

// check compares the mailbase's record with a deleted/read line:
// "deleted joe 7 12" or "read joe -" for none.
func (d *dialog) check(st step) {
	fields := strings.Fields(st.arg)
	if len(fields) < 2 {
		d.fail(st, "want USER IDS")
	}
	var want []uint64
	for _, f := range fields[1:] {
		if f == "-" {
			continue
		}
		n, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			d.fail(st, "bad id %q", f)
		}
		want = append(want, n)
	}
	slices.Sort(want)
	m := d.ts.base.deleted
	if st.directive == "read" {
		m = d.ts.base.read
	}
	if got := d.ts.base.ids(m, fields[0]); !slices.Equal(got, want) {
		d.fail(st, "mailbase has %v", got)
	}
}
