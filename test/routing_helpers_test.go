package test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Helpers for the routing system tests: editing the temporary BBS tree
// before the server starts, sending mail with Python's smtplib, and reading
// the command line's tables.

// smForwardToNet is main.ini settings bit 26, SM_FWDTONET ("Allow
// Forwarding to NetMail"). The stock settings value 0x611f848 has it set.
const smForwardToNet = 1 << 26

// routingSetIni sets key in [section] of an ini file under ctrl/ (section
// "" is the part before the first section header). The key must already be
// there: the stock files carry every key the tests change, and a key that
// went missing means the fixture changed under the test.
func (b *bbs) routingSetIni(file, section, key, value string) {
	b.t.Helper()
	path := filepath.Join(b.ctrl, file)
	data, err := os.ReadFile(path)
	if err != nil {
		b.t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	cur, done := "", false
	for i, line := range lines {
		trim := strings.TrimSpace(line)
		if strings.HasPrefix(trim, "[") {
			cur = strings.TrimSpace(strings.Trim(trim, "[]"))
			continue
		}
		k, _, ok := strings.Cut(trim, "=")
		if !ok || !strings.EqualFold(cur, section) || !strings.EqualFold(strings.TrimSpace(k), key) {
			continue
		}
		indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
		lines[i] = indent + key + "=" + value
		done = true
		break
	}
	if !done {
		b.t.Fatalf("%s has no key %q in section [%s]", file, key, section)
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// routingAppend adds lines to a file under ctrl/.
func (b *bbs) routingAppend(file string, lines ...string) {
	b.t.Helper()
	path := filepath.Join(b.ctrl, file)
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		b.t.Fatal(err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	data = append(data, strings.Join(lines, "\n")+"\n"...)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// routingSysMisc rewrites main.ini's settings with bits set and cleared.
func (b *bbs) routingSysMisc(set, clear uint32) {
	b.t.Helper()
	const stock = 0x611f848 // testdata/bbs/ctrl/main.ini
	b.routingSetIni("main.ini", "", "settings", "0x"+strconv.FormatUint(uint64((stock|set)&^clear), 16))
}

// routingFTN gives the system a FidoNet address of its own.
func (b *bbs) routingFTN(addr string) {
	b.t.Helper()
	b.routingSetIni("msgs.ini", "FidoNet", "addr_list", addr)
}

// routingMsg describes one message sent with routing_send.py.
type routingMsg struct {
	port     int
	from     string
	to       []string
	subject  string
	auth     []string // user, password: log in (after STARTTLS on submission)
	body     string
	headers  []string
	starttls bool
	source   string // local address to connect from (127.0.0.x)
}

// routingSend sends one message with smtplib and returns what the script
// printed: "SENT 250 2.0.0 OK ...", "REFUSED <to> <code> <text>" lines and so on.
func (b *bbs) routingSend(a routingMsg) string {
	b.t.Helper()
	args := []string{"127.0.0.1", itoa(a.port), a.from, strings.Join(a.to, ","), a.subject}
	if len(a.auth) == 2 {
		args = append(args, "--auth", a.auth[0], a.auth[1])
	}
	if a.starttls || (len(a.auth) == 2 && a.port == b.ports.Submission) {
		args = append(args, "--starttls")
	}
	if a.body != "" {
		args = append(args, "--body", a.body)
	}
	for _, h := range a.headers {
		args = append(args, "--header", h)
	}
	if a.source != "" {
		args = append(args, "--source", a.source)
	}
	return strings.TrimSpace(python(b.t, "routing_send.py", args...))
}

// routingMustSend sends a message that every recipient has to accept.
func (b *bbs) routingMustSend(a routingMsg) {
	b.t.Helper()
	if out := b.routingSend(a); !strings.HasPrefix(out, "SENT 250 ") {
		b.t.Fatalf("sending %q to %v: want every recipient accepted, got:\n%s", a.subject, a.to, out)
	}
}

// routingRefused sends a message whose only recipient must be refused with
// a reply starting with want (code and text).
func (b *bbs) routingRefused(a routingMsg, want string) {
	b.t.Helper()
	out := b.routingSend(a)
	prefix := "REFUSED " + a.to[0] + " " + want
	if !strings.HasPrefix(out, prefix) {
		b.t.Fatalf("RCPT TO:<%s>: want %q, got:\n%s", a.to[0], want, out)
	}
}

// routingRows returns the data rows of a command-line table: the header
// line and the "N entries" total of `queue list` left out.
func routingRows(out string) []string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if n := len(lines); n > 1 {
		if count, ok := strings.CutSuffix(lines[n-1], " entries"); ok {
			if _, err := strconv.Atoi(count); err == nil {
				lines = lines[:n-1]
			}
		}
	}
	var rows []string
	for _, line := range lines[1:] {
		if line != "" {
			rows = append(rows, line)
		}
	}
	return rows
}

// routingRowWith returns the first row containing every one of want.
func routingRowWith(rows []string, want ...string) (string, bool) {
next:
	for _, r := range rows {
		for _, w := range want {
			if !strings.Contains(r, w) {
				continue next
			}
		}
		return r, true
	}
	return "", false
}

// routingFields splits a table row on runs of spaces.
func routingFields(row string) []string { return strings.Fields(row) }

// routingMailbox lists a user's mailbox rows.
func (b *bbs) routingMailbox(alias string) []string {
	b.t.Helper()
	return routingRows(b.must("mail", "list", alias))
}

// routingWantMail fails unless the mailbox holds a message with subject.
func (b *bbs) routingWantMail(alias, subject string) {
	b.t.Helper()
	rows := b.routingMailbox(alias)
	if _, ok := routingRowWith(rows, subject); !ok {
		b.t.Fatalf("mailbox of %s has no %q:\n%s", alias, subject, strings.Join(rows, "\n"))
	}
}

// routingQueue lists the outbound queue's rows.
func (b *bbs) routingQueue() []string {
	b.t.Helper()
	return routingRows(b.must("queue", "list"))
}

// routingPoll calls cond until it holds or limit passes, and reports
// which; callers print what they saw when it did not hold.
func routingPoll(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}
