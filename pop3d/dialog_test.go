package pop3d_test

import (
	"crypto/tls"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/internal/testkit"
	"github.com/bbsmail/bbsmail/pop3d"
)

// ioTimeout bounds every client read and write: a hung server fails the
// test instead of stalling it. It is not a timing assertion.
const ioTimeout = testkit.IOTimeout

// TestDialogs runs every testdata/dialogs/*.txt transcript against its own
// server. The format is described in testdata/dialogs/README.md.
func TestDialogs(t *testing.T) {
	t.Parallel()
	for _, file := range testkit.ReadDialogs(t, "testdata/dialogs") {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			t.Parallel()
			runDialog(t, file)
		})
	}
}

// dialogConfig turns a transcript's header into server settings.
func dialogConfig(d *testkit.Dialog) (cfg pop3d.Config, tlsOn, implTLS bool) {
	for key, val := range d.Head {
		num := func() int {
			n, err := strconv.Atoi(val)
			if err != nil {
				d.T.Fatalf("%s: header %s: %v", d.File, key, err)
			}
			return n
		}
		switch key {
		case "tls":
			tlsOn = val == "on"
		case "mode":
			if val != "pop3s" {
				d.T.Fatalf("%s: unknown mode %q", d.File, val)
			}
			implTLS = true
		case "noread":
			cfg.NoReadPOP3 = val == "yes"
		case "killreadspam":
			cfg.KillReadSpam = val == "yes"
		case "noplaintext":
			cfg.DisablePlaintextAuth = val == "yes"
		case "maxbad":
			cfg.MaxBadCommands = num()
		case "maxclients":
			cfg.MaxClients = num()
		case "maxconnsperip":
			cfg.MaxConnsPerIP = num()
		case "idle":
			var err error
			if cfg.MaxInactivity, err = time.ParseDuration(val); err != nil {
				d.T.Fatalf("%s: header idle: %v", d.File, err)
			}
		default:
			d.T.Fatalf("%s: unknown header %q", d.File, key)
		}
	}
	return cfg, tlsOn, implTLS
}

func runDialog(t *testing.T, file string) {
	d := testkit.ParseDialog(t, file)
	cfg, tlsOn, implTLS := dialogConfig(d)
	ts := startServer(t, cfg, tlsOn, implTLS)
	d.Dial = func(from string) (net.Conn, error) {
		conn, err := testkit.Dial(ts.addr, from)
		if err == nil && implTLS {
			conn = tls.Client(conn, ts.clientTLS())
		}
		return conn, err
	}
	d.TLS = ts.clientTLS
	var checks []testkit.Step // deleted/read, checked once the server has stopped
	later := func(_ *testkit.Dialog, st testkit.Step) error { checks = append(checks, st); return nil }
	d.Ops = map[string]func(*testkit.Dialog, testkit.Step) error{"relogin": relogin, "deleted": later, "read": later}
	d.Run()
	ts.stop(t)
	for _, st := range checks {
		if err := checkMarks(ts, st); err != nil {
			d.Fail(st, "%v", err)
		}
	}
}

// relogin logs in with USER/PASS on fresh connections until the mailbox is
// free: the server releases a mailbox only once it has noticed that the
// previous session's client went away.
func relogin(d *testkit.Dialog, st testkit.Step) error {
	user, pass, _ := strings.Cut(st.Arg, " ")
	deadline := time.Now().Add(ioTimeout)
	for attempt := 0; ; attempt++ {
		d.Connect(st, fmt.Sprintf("relogin-%d-%d", st.Line, attempt), "")
		if _, err := d.ReadLine(st); err != nil { // greeting
			return err
		}
		d.Send(st, "USER "+user+"\r\nPASS "+pass+"\r\n")
		if _, err := d.ReadLine(st); err != nil {
			return err
		}
		got, err := d.ReadLine(st)
		if err != nil {
			return err
		}
		if strings.HasPrefix(got, "+OK") {
			return nil
		}
		if got != "-ERR [IN-USE] Mailbox already locked" || time.Now().After(deadline) {
			return fmt.Errorf("login answer %q", got)
		}
		_ = d.Conn(st).Close()
		time.Sleep(10 * time.Millisecond) // pace the retries; not an assertion
	}
}

// checkMarks compares the mailbase's record with a deleted/read line:
// "deleted joe 7 12" or "read joe -" for none.
func checkMarks(ts *testServer, st testkit.Step) error {
	fields := strings.Fields(st.Arg)
	if len(fields) < 2 {
		return fmt.Errorf("want USER IDS")
	}
	var want []uint64
	for _, f := range fields[1:] {
		if f == "-" {
			continue
		}
		n, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return fmt.Errorf("bad id %q", f)
		}
		want = append(want, n)
	}
	slices.Sort(want)
	m := ts.base.deleted
	if st.Op == "read" {
		m = ts.base.read
	}
	if got := ts.base.ids(m, fields[0]); !slices.Equal(got, want) {
		return fmt.Errorf("mailbase has %v", got)
	}
	return nil
}
