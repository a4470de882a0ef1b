package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// postfixInst is a private Postfix instance: its own configuration, queue
// and data directories under the run directory, one smtpd on a free
// loopback port, relaying everything to [127.0.0.1]:relayPort. It never
// reads or changes the system's Postfix configuration, queue or port 25.
type postfixInst struct {
	dir       string
	conf      string
	queue     string
	data      string
	port      int
	relayPort int
	master    *child
	tools     map[string]string // postfix, postconf, postqueue, postsuper
	daemonDir string
	// discard sends every accepted message to the discard transport and
	// turns peer-name lookups on: the configuration of a system Postfix
	// measured as the faster baseline (baselines.go).
	discard bool
}

// errNoPostfix says why the baseline cannot run here.
var errNoPostfix = errors.New("postfix baseline unavailable")

// newPostfix prepares an instance under parent. Postfix insists on root
// for its queue ownership, so anything else is errNoPostfix.
func newPostfix(ctx context.Context, parent string) (*postfixInst, error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("%w: a private Postfix instance needs root (its queue belongs to the postfix user)", errNoPostfix)
	}
	tools := map[string]string{}
	for _, name := range []string{"postfix", "postconf", "postqueue", "postsuper"} {
		if tools[name] = findTool(name); tools[name] == "" {
			return nil, fmt.Errorf("%w: %s not found (Debian package postfix)", errNoPostfix, name)
		}
	}
	owner, err := user.Lookup("postfix")
	if err != nil {
		return nil, fmt.Errorf("%w: no postfix user: %v", errNoPostfix, err)
	}
	out, err := runCmd(ctx, nil, tools["postconf"], "-dh", "daemon_directory")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNoPostfix, err)
	}
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(parent, "postfix")
	pf := &postfixInst{dir: dir, conf: filepath.Join(dir, "conf"), queue: filepath.Join(dir, "queue"),
		data: filepath.Join(dir, "data"), port: ports[0], tools: tools, daemonDir: strings.TrimSpace(out)}
	for _, d := range []string{pf.conf, pf.queue, pf.data} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	uid, _ := strconv.Atoi(owner.Uid)
	gid, _ := strconv.Atoi(owner.Gid)
	// Postfix's daemons drop to the postfix user and must reach their
	// data directory; the run directory is private (0700) by default.
	if err := os.Chmod(parent, 0o755); err != nil {
		return nil, err
	}
	if err := os.Chown(pf.data, uid, gid); err != nil {
		return nil, err
	}
	return pf, nil
}

func (pf *postfixInst) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(pf.port)) }

// writeConfig writes main.cf and master.cf. deferSMTP holds every message
// in the deferred queue (defer_transports = smtp), the documented way to
// keep mail until a link comes up; it lets the inbound runs measure
// acceptance alone and fills the queue for the outbound run.
func (pf *postfixInst) writeConfig(deferSMTP bool) error {
	defer_ := ""
	if deferSMTP {
		defer_ = "smtp"
	}
	mainCf := fmt.Sprintf(`# written by bbsbench: a private instance on loopback
compatibility_level = 3.6
queue_directory = %s
data_directory = %s
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = postfix.bbsbench.invalid
mydestination =
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:%d
smtpd_relay_restrictions = permit_mynetworks, reject
# bbsmail runs with NO_HOST_LOOKUP; Postfix gets the same treatment.
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtputf8_enable = no
# The master runs as our child and its standard output is the log file:
# no syslog needed, and no log file the postfix user must be able to create.
maillog_file = /dev/stdout
defer_transports = %s
`, pf.queue, pf.data, pf.relayPort, defer_)
	if pf.discard {
		// Later lines win in main.cf.
		mainCf += `default_transport = discard
relay_transport = discard
smtpd_peername_lookup = yes
`
	}
	// Debian's master.cf chroots most daemons, which needs a populated
	// chroot; this one runs them all unchrooted. The master opens the
	// services in file order, so with smtpd last a port that accepts means
	// the local sockets the commands need (postlog, qmgr, flush) are there.
	masterCf := fmt.Sprintf(`# written by bbsbench
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
%s inet n - n - - smtpd
`, pf.addr())
	if err := os.WriteFile(filepath.Join(pf.conf, "main.cf"), []byte(mainCf), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(pf.conf, "master.cf"), []byte(masterCf), 0o644)
}

// start writes the configuration, lets `postfix check` create the queue
// directories, and runs the master daemon in the foreground as our child
// so that stopping it stops the whole instance.
func (pf *postfixInst) start(ctx context.Context, p *procs, deferSMTP bool) error {
	if err := pf.writeConfig(deferSMTP); err != nil {
		return err
	}
	if err := pf.tool(ctx, "postfix", "-c", pf.conf, "check"); err != nil {
		return err
	}
	log, err := os.OpenFile(pf.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close() // the child holds its own descriptor
	// -s keeps standard output open for maillog_file = /dev/stdout.
	cmd := exec.Command(filepath.Join(pf.daemonDir, "master"), "-c", pf.conf, "-s")
	cmd.Stdout, cmd.Stderr = log, log
	// master makes itself a session leader, which also keeps a terminal's
	// Ctrl-C away from it.
	cmd.SysProcAttr = childAttr(false)
	c, err := p.start("postfix master", cmd)
	if err != nil {
		return err
	}
	pf.master = c
	if err := waitPort(ctx, c, pf.addr(), 30*time.Second); err != nil {
		pf.stop()
		return fmt.Errorf("postfix master: %w\n%s", err, pf.logTail())
	}
	// Without the postlog socket, postsuper and postqueue would write
	// their log lines to maillog_file themselves (see tool).
	return waitUntil(ctx, 10*time.Second, "Postfix's public sockets", func() (bool, error) {
		for _, name := range []string{"postlog", "qmgr", "flush"} {
			if _, err := os.Stat(filepath.Join(pf.queue, "public", name)); err != nil {
				return false, nil
			}
		}
		return true, nil
	})
}

// stop ends the master daemon, which takes its children with it.
func (pf *postfixInst) stop() {
	if pf.master != nil {
		pf.master.stop(20 * time.Second)
		pf.master = nil
	}
}

func (pf *postfixInst) logPath() string { return filepath.Join(pf.dir, "maillog") }

func (pf *postfixInst) logTail() string { return fileTail(pf.logPath(), 20) }

// count is the number of queue files in the named queues.
func (pf *postfixInst) count(queues ...string) (int, error) {
	n := 0
	for _, q := range queues {
		err := filepath.WalkDir(filepath.Join(pf.queue, q), func(_ string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				n++
			}
			return nil
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return 0, err
		}
	}
	return n, nil
}

// waitQueued waits until n messages sit in the deferred queue and none is
// still on its way there.
func (pf *postfixInst) waitQueued(ctx context.Context, n int, limit time.Duration) error {
	return waitUntil(ctx, limit, fmt.Sprintf("%d messages in Postfix's deferred queue", n), func() (bool, error) {
		busy, err := pf.count("maildrop", "incoming", "active")
		if err != nil {
			return false, err
		}
		deferred, err := pf.count("deferred")
		return busy == 0 && deferred == n, err
	})
}

// waitSettled waits until every accepted message has reached its queue
// (none is left in maildrop, incoming or active).
func (pf *postfixInst) waitSettled(ctx context.Context, limit time.Duration) error {
	return waitUntil(ctx, limit, "Postfix's queue manager to settle", func() (bool, error) {
		busy, err := pf.count("maildrop", "incoming", "active")
		return busy == 0, err
	})
}

// waitEmpty waits until no message is left in any queue.
func (pf *postfixInst) waitEmpty(ctx context.Context, limit time.Duration) error {
	return waitUntil(ctx, limit, "Postfix's queue to empty", func() (bool, error) {
		n, err := pf.count("maildrop", "incoming", "active", "deferred", "hold")
		return n == 0, err
	})
}

// clear deletes every queued message.
func (pf *postfixInst) clear(ctx context.Context) error {
	return pf.tool(ctx, "postsuper", "-c", pf.conf, "-d", "ALL")
}

// flush asks the queue manager to deliver the deferred queue now.
func (pf *postfixInst) flush(ctx context.Context) error {
	return pf.tool(ctx, "postqueue", "-c", pf.conf, "-f")
}

// tool runs a Postfix command with its standard output on /dev/null. When
// the postlog service is busy or not up yet, such a command logs to
// maillog_file itself after dropping to the postfix user, and a
// /dev/stdout that is our pipe is not one it may open; /dev/null is.
// Its messages go to standard error, which is kept for errors.
func (pf *postfixInst) tool(ctx context.Context, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, pf.tools[name], args...)
	cmd.SysProcAttr = childAttr(true)
	var errOut limitedBuffer
	cmd.Stderr = &errOut
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %v: %w: %s", name, args, err, errOut.String())
	}
	return nil
}
