package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"
)

// The POP3 runs: -pop3-users sessions at once, each logging in as a user
// of its own (POP3 locks a mailbox per session) whose mailbox holds
// -pop3-mailbox messages, retrieve messages in turn (RETR 1, 2, ... and
// round again) until -pop3-retr retrievals are done over all sessions.
// The login shape logs out and in again every pop3LoginEvery messages; the
// retrieval shape logs in once per session and starts the clock only when
// every session has logged in, so that it measures retrieval alone (the
// logins' latency is still reported). Both servers check the same
// argon2id cost (t=2, 19 MiB, p=1) at every login.
const pop3LoginEvery = 200

// pop3Spec is one POP3 run.
type pop3Spec struct {
	addr     string
	users    []string
	pass     string
	mailbox  int // messages in each mailbox
	total    int // RETRs over all sessions
	perLogin int // RETRs per login; 0 = one login per session
}

type pop3Result struct {
	retrs, logins int
	elapsed       time.Duration
	// clientCPU and restCPU split the machine's busy time over the timed
	// span: this client's, and everything else's (the server).
	clientCPU, restCPU time.Duration
	cpuOK              bool
	loginLat           []time.Duration // greeting read → +OK to PASS
	firstErr           error
}

func (r pop3Result) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.retrs) / r.elapsed.Seconds()
}

// runPOP3 runs one session loop per user until the RETR budget is spent.
func runPOP3(ctx context.Context, spec pop3Spec) pop3Result {
	var (
		mu  sync.Mutex
		res pop3Result
		wg  sync.WaitGroup
	)
	share := spec.total / len(spec.users)
	var gate *loginGate
	if spec.perLogin == 0 {
		gate = &loginGate{start: make(chan struct{})}
		gate.in.Add(len(spec.users))
	}
	start := time.Now()
	for _, u := range spec.users {
		wg.Go(func() {
			r := pop3Client(ctx, spec, u, share, gate)
			mu.Lock()
			defer mu.Unlock()
			res.retrs += r.retrs
			res.logins += r.logins
			res.loginLat = append(res.loginLat, r.loginLat...)
			if res.firstErr == nil {
				res.firstErr = r.firstErr
			}
		})
	}
	split := startSplit()
	if gate != nil {
		gate.in.Wait()
		start, split = time.Now(), startSplit()
		close(gate.start)
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.clientCPU, res.restCPU, res.cpuOK = split.stop()
	return res
}

// loginGate holds every session after its login until all have logged in.
type loginGate struct {
	in    sync.WaitGroup // one per session, done when it logged in or gave up
	start chan struct{}  // closed when the clock starts
}

// arrival is one session's way through the gate (nil gate: no waiting).
type arrival struct {
	g    *loginGate
	done bool
}

// pass marks the session logged in and waits for the others.
func (a *arrival) pass() {
	if a.g == nil || a.done {
		return
	}
	a.done = true
	a.g.in.Done()
	<-a.g.start
}

// leave lets the others go on without a session that failed before it
// passed.
func (a *arrival) leave() {
	if a.g != nil && !a.done {
		a.done = true
		a.g.in.Done()
	}
}

// pop3Client retrieves share messages as user, logging in again every
// spec.perLogin of them.
func pop3Client(ctx context.Context, spec pop3Spec, user string, share int, gate *loginGate) pop3Result {
	var r pop3Result
	a := &arrival{g: gate}
	defer a.leave()
	next := 0
	for r.retrs < share && ctx.Err() == nil {
		n := share - r.retrs
		if spec.perLogin > 0 {
			n = min(n, spec.perLogin)
		}
		got, lat, err := pop3Session(spec, user, n, &next, a)
		r.retrs += got
		if lat > 0 {
			r.logins++
			r.loginLat = append(r.loginLat, lat)
		}
		if err != nil {
			r.firstErr = fmt.Errorf("%s: %w", user, err)
			return r
		}
	}
	return r
}

// pop3Session logs in, passes the gate, retrieves n messages starting
// after *next, and quits.
func pop3Session(spec pop3Spec, user string, n int, next *int, a *arrival) (int, time.Duration, error) {
	c, err := net.DialTimeout("tcp", spec.addr, 10*time.Second)
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Minute))
	p := &pop3Conn{c: c, r: bufio.NewReaderSize(c, 64<<10)}
	if _, err := p.status(); err != nil {
		return 0, 0, fmt.Errorf("greeting: %w", err)
	}
	t0 := time.Now()
	if err := p.cmd("USER " + user); err != nil {
		return 0, 0, err
	}
	if err := p.cmd("PASS " + spec.pass); err != nil {
		return 0, 0, err
	}
	lat := time.Since(t0)
	a.pass()
	got := 0
	for ; got < n; got++ {
		*next = *next%spec.mailbox + 1
		if err := p.retr(*next); err != nil {
			return got, lat, err
		}
	}
	return got, lat, p.cmd("QUIT")
}

type pop3Conn struct {
	c    net.Conn
	r    *bufio.Reader
	line []byte // the command line being sent, reused
	// sizes holds each message's body length (as sent, stuffed) from its
	// first RETR in the session; every later RETR must send as many.
	sizes map[int]int
}

var errPOP3 = errors.New("POP3 server said -ERR")

// status reads one status line. The line is valid until the next read.
func (p *pop3Conn) status() ([]byte, error) {
	line, err := p.r.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(line, []byte("+OK")) {
		return nil, fmt.Errorf("%w: %q", errPOP3, line)
	}
	return line, nil
}

func (p *pop3Conn) cmd(line string) error {
	if _, err := p.c.Write([]byte(line + "\r\n")); err != nil {
		return err
	}
	if _, err := p.status(); err != nil {
		return fmt.Errorf("%s: %w", verb(line), err)
	}
	return nil
}

// retr retrieves message i and reads the text to its terminating dot
// line. It checks that the whole text came: at least the octets the
// status line announces (dot-stuffing only adds), and as many as the
// first RETR of the message in this session brought.
func (p *pop3Conn) retr(i int) error {
	p.line = strconv.AppendInt(append(p.line[:0], "RETR "...), int64(i), 10)
	p.line = append(p.line, "\r\n"...)
	if _, err := p.c.Write(p.line); err != nil {
		return err
	}
	line, err := p.status()
	if err != nil {
		return fmt.Errorf("RETR %d: %w", i, err)
	}
	octets, announced := statusOctets(line)
	n, err := readBody(p.r)
	if err != nil {
		return fmt.Errorf("RETR %d: %w", i, err)
	}
	if announced && n < octets {
		return fmt.Errorf("RETR %d: %d octets announced, %d came", i, octets, n)
	}
	if p.sizes == nil {
		p.sizes = make(map[int]int)
	}
	if first, ok := p.sizes[i]; !ok {
		p.sizes[i] = n
	} else if n != first {
		return fmt.Errorf("RETR %d: %d octets, %d the first time", i, n, first)
	}
	return nil
}

// statusOctets reads the size from "+OK <octets> ...", which both
// servers send for RETR.
func statusOctets(line []byte) (int, bool) {
	rest, ok := bytes.CutPrefix(line, []byte("+OK "))
	n, i := 0, 0
	for ; ok && i < len(rest) && i < 18 && rest[i] >= '0' && rest[i] <= '9'; i++ {
		n = n*10 + int(rest[i]-'0')
	}
	return n, i > 0
}

var bodyEnd = []byte("\r\n.\r\n")

// readBody reads a multi-line response body up to and including its
// terminating dot line and returns the body's length as sent (stuffed,
// without the terminating line). It looks for CRLF "." CRLF in whatever
// the reader holds rather than reading line by line: a line that starts
// with a dot has it doubled, so the sequence only occurs at the end. The
// body starts right after the status line's CRLF, which is counted as the
// line break before an empty body's dot.
func readBody(r *bufio.Reader) (int, error) {
	var carry [4]byte // the last octets consumed, at most 4
	c := copy(carry[:], "\r\n")
	n := 0 // body octets consumed
	for {
		if _, err := r.Peek(1); err != nil {
			return n, err
		}
		buf, _ := r.Peek(r.Buffered())
		// A terminator that begins in what was consumed already.
		var join [8]byte
		j := append(append(join[:0], carry[:c]...), buf[:min(len(buf), 4)]...)
		if k := bytes.Index(j, bodyEnd); k >= 0 {
			_, _ = r.Discard(k + len(bodyEnd) - c)
			return n - c + k + 2, nil
		}
		if k := bytes.Index(buf, bodyEnd); k >= 0 {
			_, _ = r.Discard(k + len(bodyEnd))
			return n + k + 2, nil
		}
		n += len(buf)
		j = append(append(join[:0], carry[:c]...), buf[max(0, len(buf)-4):]...)
		c = copy(carry[:], j[len(j)-min(len(j), 4):])
		_, _ = r.Discard(len(buf))
	}
}
