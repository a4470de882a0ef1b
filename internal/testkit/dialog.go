package testkit

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
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// IOTimeout bounds every read and write of a dialog and the other test
// clients: a hung server fails the test instead of stalling it. It is not a
// timing assertion.
const IOTimeout = 20 * time.Second

// Step is one line of a dialog transcript.
type Step struct {
	Line int    // line number in the file, for messages
	Op   string // "C:", "S:", "S~", "S^" or a directive's first word
	Arg  string // the rest of the line (for "C:", the bytes to send before CR LF)
}

// Dialog is a scripted conversation with a server, read from a transcript
// (the syntax is in docs/testing.md). The package under test sets Dial
// (and TLS when the dialog may start TLS) and its own directives in Ops,
// then calls Run.
type Dialog struct {
	T     testing.TB
	File  string
	Head  map[string]string // the header's key: value lines
	Steps []Step

	// Dial opens a new connection to the server from the local address
	// from ("" = any). A listener in implicit-TLS mode returns a TLS
	// client here.
	Dial func(from string) (net.Conn, error)
	// TLS is the client's configuration for a starttls step.
	TLS func() *tls.Config
	// Ops are the package's own directives, by their first word.
	Ops map[string]func(d *Dialog, st Step) error
	// Timeout bounds each read, write and handshake (0 = IOTimeout).
	Timeout time.Duration

	Vars  map[string]string // ${name} values: S~ captures, md5 results
	conns map[string]*dialogConn
	cur   *dialogConn
}

type dialogConn struct {
	conn    net.Conn
	r       *bufio.Reader
	pending strings.Builder // C: lines not yet written
}

// ReadDialogs returns the transcripts in dir (*.txt, sorted), failing when
// there are none.
func ReadDialogs(t testing.TB, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dialogs in %s: %v", dir, err)
	}
	return files
}

// ParseDialog reads a transcript: header lines up to a line "---", then
// the steps.
func ParseDialog(t testing.TB, file string) *Dialog {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	d := &Dialog{T: t, File: filepath.Base(file), Head: map[string]string{}, Vars: map[string]string{},
		conns: map[string]*dialogConn{}}
	inHead := true
	for i, line := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		if inHead {
			if line == "---" {
				inHead = false
				continue
			}
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				t.Fatalf("%s:%d: header line without ':' (and no --- before the steps?)", d.File, i+1)
			}
			d.Head[strings.TrimSpace(k)] = strings.TrimSpace(v)
			continue
		}
		st := Step{Line: i + 1}
		switch {
		case len(line) >= 2 && (line[:2] == "C:" || line[:2] == "S:" || line[:2] == "S~" || line[:2] == "S^"):
			st.Op, st.Arg = line[:2], strings.TrimPrefix(line[2:], " ")
		case strings.HasPrefix(line, "Cq:"):
			// Go escapes (\x00, \r) for the bytes a text file can't hold.
			arg, err := strconv.Unquote(`"` + strings.TrimPrefix(line[3:], " ") + `"`)
			if err != nil {
				t.Fatalf("%s:%d: %v", d.File, i+1, err)
			}
			st.Op, st.Arg = "C:", arg
		default:
			st.Op, st.Arg, _ = strings.Cut(line, " ")
		}
		d.Steps = append(d.Steps, st)
	}
	if inHead {
		t.Fatalf("%s: no --- line after the header", d.File)
	}
	return d
}

// Run performs the steps in order, failing the test at the first one that
// does not hold, and closes the dialog's connections when the test ends.
func (d *Dialog) Run() {
	d.T.Helper()
	d.T.Cleanup(func() {
		for _, c := range d.conns {
			_ = c.conn.Close()
		}
	})
	for _, st := range d.Steps {
		if st.Op == "C:" {
			d.client(st).pending.WriteString(d.Expand(st.Arg) + "\r\n")
			continue
		}
		if d.cur != nil {
			d.flush(st)
		}
		if err := d.step(st); err != nil {
			d.Fail(st, "%v", err)
		}
	}
	if d.cur != nil {
		d.flush(Step{Line: -1, Op: "end"})
	}
}

func (d *Dialog) deadline() time.Time {
	if d.Timeout > 0 {
		return time.Now().Add(d.Timeout)
	}
	return time.Now().Add(IOTimeout)
}

// Fail stops the test with the step's place in the transcript.
func (d *Dialog) Fail(st Step, format string, args ...any) {
	d.T.Helper()
	d.T.Fatalf("%s:%d: %s %s: %s", d.File, st.Line, st.Op, st.Arg, fmt.Sprintf(format, args...))
}

// Expand replaces ${name} with the variable's value.
func (d *Dialog) Expand(s string) string {
	return varRef.ReplaceAllStringFunc(s, func(m string) string { return d.Vars[m[2:len(m)-1]] })
}

var varRef = regexp.MustCompile(`\$\{(\w+)\}`)

func (d *Dialog) step(st Step) error {
	switch st.Op {
	case "S:", "S^", "S~":
		return d.expectLine(st)
	case "closed":
		return d.closed(st)
	case "starttls":
		c := d.client(st)
		tc := tls.Client(c.conn, d.TLS())
		_ = tc.SetDeadline(d.deadline())
		if err := tc.Handshake(); err != nil {
			return fmt.Errorf("handshake: %w", err)
		}
		_ = tc.SetDeadline(time.Time{})
		c.conn, c.r = tc, bufio.NewReader(tc)
	case "conn":
		name, from, _ := strings.Cut(st.Arg, " ")
		d.Connect(st, name, from)
	case "drop":
		_ = d.client(st).conn.Close()
	case "md5":
		name, text, _ := strings.Cut(st.Arg, " ")
		sum := md5.Sum([]byte(d.Expand(text)))
		d.Vars[name] = hex.EncodeToString(sum[:])
	default:
		op, ok := d.Ops[st.Op]
		if !ok {
			return errors.New("unknown step")
		}
		return op(d, st)
	}
	return nil
}

// expectLine checks the next server line against an S:, S^ or S~ step.
func (d *Dialog) expectLine(st Step) error {
	got, err := d.ReadLine(st)
	if err != nil {
		return err
	}
	want := d.Expand(st.Arg)
	switch st.Op {
	case "S:":
		if got != want {
			return fmt.Errorf("got %q", got)
		}
	case "S^":
		if !strings.HasPrefix(got, want) {
			return fmt.Errorf("got %q", got)
		}
	case "S~":
		re, err := regexp.Compile("^(?:" + want + ")$")
		if err != nil {
			return fmt.Errorf("bad regexp: %w", err)
		}
		m := re.FindStringSubmatch(got)
		if m == nil {
			return fmt.Errorf("got %q", got)
		}
		for i, name := range re.SubexpNames() {
			if name != "" {
				d.Vars[name] = m[i]
			}
		}
	}
	return nil
}

// closed checks that the server closes the connection without sending
// another line. A read that runs out of time is not a close.
func (d *Dialog) closed(st Step) error {
	c := d.client(st)
	_ = c.conn.SetReadDeadline(d.deadline())
	line, err := c.r.ReadString('\n')
	if err == nil || line != "" || !IsClosed(err) {
		return fmt.Errorf("want the server to close; got %q, %v", line, err)
	}
	return nil
}

// IsClosed tells whether a read error means the peer closed the
// connection (end of stream or a reset), not a timeout or another fault.
func IsClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrClosedPipe)
}

// Connect switches to connection name, opening it from the local address
// from ("" = any) if it is new.
func (d *Dialog) Connect(st Step, name, from string) {
	d.T.Helper()
	if c, ok := d.conns[name]; ok {
		d.cur = c
		return
	}
	conn, err := d.Dial(from)
	if err != nil {
		d.Fail(st, "dial: %v", err)
	}
	d.cur = &dialogConn{conn: conn, r: bufio.NewReader(conn)}
	d.conns[name] = d.cur
}

// Conn is the current connection; the first one, "main", is opened by the
// first step that needs it.
func (d *Dialog) Conn(st Step) net.Conn { return d.client(st).conn }

func (d *Dialog) client(st Step) *dialogConn {
	d.T.Helper()
	if d.cur == nil {
		d.Connect(st, "main", "")
	}
	return d.cur
}

// Send writes s to the current connection as it is.
func (d *Dialog) Send(st Step, s string) {
	d.T.Helper()
	c := d.client(st)
	_ = c.conn.SetWriteDeadline(d.deadline())
	if _, err := io.WriteString(c.conn, s); err != nil {
		d.Fail(st, "write: %v", err)
	}
}

// flush writes the current connection's pending C: lines in one write,
// which is how pipelining is tested.
func (d *Dialog) flush(st Step) {
	d.T.Helper()
	if p := &d.cur.pending; p.Len() > 0 {
		s := p.String()
		p.Reset()
		d.Send(st, s)
	}
}

// ReadLine returns the next line from the server without its CR LF; a
// line without CR LF is an error.
func (d *Dialog) ReadLine(st Step) (string, error) {
	c := d.client(st)
	_ = c.conn.SetReadDeadline(d.deadline())
	line, err := c.r.ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("read: %w (got %q)", err, line)
	}
	if !strings.HasSuffix(line, "\r\n") {
		return "", fmt.Errorf("line %q does not end with CR LF", line)
	}
	return strings.TrimSuffix(line, "\r\n"), nil
}

// Match is for directives that check text: the step's argument is a
// regexp (unanchored, "." matches newlines) that must match s.
func Match(st Step, what, s string) error {
	re, err := regexp.Compile("(?s)" + st.Arg)
	if err != nil {
		return err
	}
	if !re.MatchString(s) {
		return fmt.Errorf("%s does not match; it is:\n%s", what, s)
	}
	return nil
}
