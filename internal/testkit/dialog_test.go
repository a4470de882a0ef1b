package testkit

import (
	"bufio"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// lineServer is a tiny line protocol on 127.0.0.1: a greeting with a
// token, then an echo of each line, a three-line list for LIST, a line
// without CR LF for BARE, nothing at all for SILENT, and a goodbye and a
// close for QUIT.
func lineServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(IOTimeout))
				fmt.Fprint(c, "+OK hi <1.2@x>\r\n")
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					switch line = strings.TrimSuffix(line, "\r\n"); line {
					case "QUIT":
						fmt.Fprint(c, "bye\r\n")
						return
					case "LIST":
						fmt.Fprint(c, "+OK\r\na\r\nb\r\n.\r\n")
					case "BARE":
						fmt.Fprint(c, "bare\n")
					case "SILENT":
					default:
						fmt.Fprintf(c, "> %s\r\n", line)
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

// fakeT records the first fatal failure instead of failing the real test.
type fakeT struct {
	testing.TB
	failed   string
	cleanups []func()
}

func (f *fakeT) Helper()           {}
func (f *fakeT) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeT) Fatal(args ...any) { f.failed = fmt.Sprint(args...); runtime.Goexit() }
func (f *fakeT) Fatalf(s string, args ...any) {
	f.failed = fmt.Sprintf(s, args...)
	runtime.Goexit()
}

// runScript runs a transcript against addr and returns the failure, or "".
func runScript(t *testing.T, addr, script string, edit func(*Dialog)) string {
	file := filepath.Join(t.TempDir(), "dialog.txt")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	ft := &fakeT{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		d := ParseDialog(ft, file)
		d.Dial = func(from string) (net.Conn, error) { return Dial(addr, from) }
		if edit != nil {
			edit(d)
		}
		d.Run()
	}()
	<-done
	for _, fn := range ft.cleanups {
		fn()
	}
	return ft.failed
}

func TestDialogRuns(t *testing.T) {
	addr := lineServer(t)
	sum := md5.Sum([]byte("<1.2@x>pw"))
	var seen []string
	script := `# every shared step once
knob: value
---
S~ \+OK hi (?P<ts><[0-9.]+@x>)
md5 d ${ts}pw
C: HELLO ${d}
Cq: A\tB
S: > HELLO ` + hex.EncodeToString(sum[:]) + `
S: > A	B
C: LIST
S^ +O
S: a
S~ [b]
S: .
mine one two
conn other 127.0.0.1
S^ +OK hi
C: QUIT
S: bye
closed
conn main
drop
`
	if failed := runScript(t, addr, script, func(d *Dialog) {
		if d.Head["knob"] != "value" {
			t.Errorf("header %v", d.Head)
		}
		d.Ops = map[string]func(*Dialog, Step) error{"mine": func(_ *Dialog, st Step) error {
			seen = append(seen, st.Arg)
			return nil
		}}
	}); failed != "" {
		t.Fatal(failed)
	}
	if strings.Join(seen, "|") != "one two" {
		t.Errorf("the package's directive saw %q", seen)
	}
}

// Each step that does not hold fails the test at its line.
func TestDialogFails(t *testing.T) {
	addr := lineServer(t)
	for _, c := range []struct{ script, want string }{
		{"---\nS: +OK nope", `dialog.txt:2: S: +OK nope: got "+OK hi <1.2@x>"`},
		{"---\nS^ -ERR", `dialog.txt:2: S^ -ERR: got "+OK hi <1.2@x>"`},
		{"---\nS~ \\+OK", `dialog.txt:2: S~ \+OK: got "+OK hi <1.2@x>"`},
		{"---\nS~ (", "bad regexp"},
		{"---\nS^ +OK\nC: BARE\nS: bare", `line "bare\n" does not end with CR LF`},
		{"---\nS^ +OK\nC: SILENT\nclosed", "want the server to close"},
		{"---\nS^ +OK\nC: ECHO\nclosed", `want the server to close; got "> ECHO\r\n"`},
		{"---\nS^ +OK\nC: QUIT\nS: bye\nS: more", "read: EOF"},
		{"---\nfrob x", "dialog.txt:2: frob x: unknown step"},
		{"---\nmine", "dialog.txt:2: mine : it failed"},
		{"S~ x", "header line without ':'"},
		{"knob: value", "no --- line"},
	} {
		failed := runScript(t, addr, c.script, func(d *Dialog) {
			d.Timeout = 200 * time.Millisecond // only the silent server waits it out
			d.Ops = map[string]func(*Dialog, Step) error{"mine": func(*Dialog, Step) error { return fmt.Errorf("it failed") }}
		})
		if !strings.Contains(failed, c.want) {
			t.Errorf("%q: failure %q, want %q", c.script, failed, c.want)
		}
	}
}
