package test

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/internal/testkit"
)

// bin is the bbsmail binary built once for the whole package.
var bin string

func TestMain(m *testing.M) {
	if limit := os.Getenv(fsizeEnv); limit != "" {
		execWithFileSizeLimit(limit) // does not return
	}
	flag.Parse()
	if testing.Short() {
		fmt.Println("test: system tests skipped in -short mode (make test runs them)")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "bbsmail-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "bbsmail")
	build := exec.Command("go", "build", "-race", "-o", bin, "../cmd/bbsmail")
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		build = exec.Command("go", "build", "-o", bin, "../cmd/bbsmail")
	}
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building bbsmail:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// ports of one test server.
type ports struct {
	SMTP, Submission, SMTPS, POP3, POP3S int
}

// bbs is one test's BBS tree and, once started, its server.
type bbs struct {
	t     *testing.T
	root  string
	ctrl  string
	ports ports
	mail  map[string]string // extra or overriding [Mail] keys
	glob  map[string]string // extra [Global] keys
	// exe, when set, is the binary to run instead of the -race build
	// (memory measurements need a plain one, see plainBinary).
	exe string
	// fsize, when set, is the server's RLIMIT_FSIZE in bytes: no file it
	// writes can grow past it (diskfull_test.go).
	fsize int64
	// unix are the [UNIX] keys. By default the tests, which CI runs as
	// root, may run mail processors as root; privs_test.go sets User.
	unix map[string]string

	mu      sync.Mutex
	cleanup bool // the stop-and-dump cleanup is registered
	cmd     *exec.Cmd
	log     *syncBuffer
	done    chan struct{}
}

// newBBS copies testdata/bbs to a temporary directory and picks free ports.
func newBBS(t *testing.T) *bbs {
	t.Helper()
	root := t.TempDir()
	if err := copyTree("../testdata/bbs", root); err != nil {
		t.Fatalf("copying testdata/bbs: %v", err)
	}
	b := &bbs{t: t, root: root, ctrl: filepath.Join(root, "ctrl"), mail: map[string]string{}, glob: map[string]string{},
		unix: map[string]string{"RootMailProcessors": "true"}}
	p := freePorts(t, 5)
	b.ports = ports{SMTP: p[0], Submission: p[1], SMTPS: p[2], POP3: p[3], POP3S: p[4]}
	return b
}

// writeIni writes ctrl/sbbs.ini with this test's ports and settings.
func (b *bbs) writeIni() {
	b.t.Helper()
	g := map[string]string{
		"Interface":         "127.0.0.1",
		"LogLevel":          "Debug",
		"BindRetryCount":    "0",
		"LoginAttemptDelay": "0",
	}
	for k, v := range b.glob {
		g[k] = v
	}
	m := map[string]string{
		"SMTPPort":          strconv.Itoa(b.ports.SMTP),
		"SubmissionPort":    strconv.Itoa(b.ports.Submission),
		"TLSSubmissionPort": strconv.Itoa(b.ports.SMTPS),
		"POP3Port":          strconv.Itoa(b.ports.POP3),
		"TLSPOP3Port":       strconv.Itoa(b.ports.POP3S),
		"Options":           "ALLOW_POP3 | USE_SUBMISSION_PORT | TLS_SUBMISSION | TLS_POP3 | NO_HOST_LOOKUP | NO_SENDMAIL",
		"MaxInactivity":     "30s",
		"DNSServer":         "127.0.0.1:1",
	}
	for k, v := range b.mail {
		m[k] = v
	}
	var buf bytes.Buffer
	buf.WriteString("; written by the system test\n[Global]\n")
	writeKeys(&buf, g)
	buf.WriteString("\n[Mail]\tSMTP(S)/POP3(S) Mail Server\n")
	writeKeys(&buf, m)
	buf.WriteString("\n[UNIX]\n")
	writeKeys(&buf, b.unix)
	if err := os.WriteFile(filepath.Join(b.ctrl, "sbbs.ini"), buf.Bytes(), 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func writeKeys(w io.Writer, m map[string]string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "\t%s = %s\n", k, m[k])
	}
}

// start runs `bbsmail serve` and waits until every listener is bound (the
// server logs its "started" line only then). The ports were free when
// newBBS picked them, but another process may take one before the server
// binds it; the server then exits with "address already in use" and start
// tries again with new ports.
func (b *bbs) start() {
	b.t.Helper()
	for attempt := 1; ; attempt++ {
		if b.launch() {
			return
		}
		if attempt == 5 || !strings.Contains(b.log.String(), "address already in use") {
			b.t.Fatalf("server did not start:\n%s", b.log.String())
		}
		p := freePorts(b.t, 5)
		b.ports = ports{SMTP: p[0], Submission: p[1], SMTPS: p[2], POP3: p[3], POP3S: p[4]}
	}
}

// launch starts the server once and reports whether it came up.
func (b *bbs) launch() bool {
	b.t.Helper()
	b.writeIni()
	b.mu.Lock()
	b.log = &syncBuffer{}
	exe := bin
	if b.exe != "" {
		exe = b.exe
	}
	b.cmd = exec.Command(exe, "serve", "-ctrl", b.ctrl)
	b.cmd.Stdout, b.cmd.Stderr = b.log, b.log
	b.cmd.Env = append(os.Environ(), "SBBSCTRL=")
	if b.fsize > 0 {
		b.cmd = fileSizeLimited(b.cmd, b.fsize)
	}
	if err := b.cmd.Start(); err != nil {
		b.mu.Unlock()
		b.t.Fatalf("starting bbsmail: %v", err)
	}
	b.done = make(chan struct{})
	cmd, done := b.cmd, b.done
	go func() { _ = cmd.Wait(); close(done) }()
	first := !b.cleanup
	b.cleanup = true
	b.mu.Unlock()
	if first {
		b.t.Cleanup(func() {
			b.stop()
			if b.t.Failed() {
				b.t.Logf("server log:\n%s", b.log.String())
			}
		})
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if strings.Contains(b.log.String(), " started on ") {
			return true
		}
		select {
		case <-done:
			return false
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("server did not report its start within a minute:\n%s", b.log.String())
		}
	}
}

// stop ends the server with SIGTERM, then SIGKILL if it does not go.
func (b *bbs) stop() {
	b.mu.Lock()
	cmd, done := b.cmd, b.done
	b.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// kill ends the server with SIGKILL, as a crash would.
func (b *bbs) kill() {
	b.mu.Lock()
	cmd, done := b.cmd, b.done
	b.mu.Unlock()
	_ = cmd.Process.Kill()
	<-done
}

// exited reports whether the server process has ended.
func (b *bbs) exited() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

func (b *bbs) addr(port int) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// run runs the bbsmail command line against this tree.
func (b *bbs) run(stdin string, args ...string) (stdout, stderr string, code int) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	full := append([]string{}, args...)
	full = append(full, "-ctrl", b.ctrl)
	cmd := exec.CommandContext(ctx, bin, full...)
	// The race runtime sleeps a second before exiting; the command line
	// does not need that pause (the server keeps it).
	cmd.Env = append(os.Environ(), "SBBSCTRL=", "GORACE=atexit_sleep_ms=0")
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code = 0
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			b.t.Fatalf("running bbsmail %v: %v", args, err)
		}
	}
	return o.String(), e.String(), code
}

// must runs a command that has to succeed and returns its output.
func (b *bbs) must(args ...string) string {
	b.t.Helper()
	out, errOut, code := b.run("", args...)
	if code != 0 {
		b.t.Fatalf("bbsmail %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// addUser creates a user and returns its number.
func (b *bbs) addUser(alias, password string, extra ...string) int {
	b.t.Helper()
	args := append([]string{"user", "add", "--password", "-"}, extra...)
	args = append(args, alias)
	out, errOut, code := b.run(password+"\n", args...)
	if code != 0 {
		b.t.Fatalf("user add %s: exit %d: %s%s", alias, code, out, errOut)
	}
	n, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		b.t.Fatalf("user add printed %q, want a user number", out)
	}
	return n
}

func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ls []net.Listener
	var out []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return out
}

type syncBuffer = testkit.SyncBuffer

// waitFor is the kit's: poll a condition with a limit, never sleep blind.
var waitFor = testkit.WaitFor

// logContains reports whether the server log holds s so far; it does not
// wait (use waitFor for lines still on their way).
func (b *bbs) logContains(s string) bool { return strings.Contains(b.log.String(), s) }

func copyTree(src, dst string) error {
	return filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
}

// dial opens a raw connection for exact dialogs.
type conn struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	return &conn{t: t, c: c, r: bufio.NewReader(c)}
}

func (c *conn) send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.c, line+"\r\n"); err != nil {
		c.t.Fatalf("send %q: %v", line, err)
	}
}

// reply reads one (possibly multi-line) SMTP reply and returns its last line.
func (c *conn) reply() string {
	c.t.Helper()
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("reading reply: %v (got %q)", err, line)
		}
		line = strings.TrimRight(line, "\r\n")
		if len(line) < 4 || line[3] != '-' {
			return line
		}
	}
}

// expect reads a reply and checks its start.
func (c *conn) expect(prefix string) string {
	c.t.Helper()
	r := c.reply()
	if !strings.HasPrefix(r, prefix) {
		c.t.Fatalf("got %q, want %q...", r, prefix)
	}
	return r
}

// closed reports whether the server closed the connection.
func (c *conn) closed() bool {
	_ = c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := c.r.ReadByte()
	return err != nil
}
