package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
)

// dovecot is a private Dovecot instance serving POP3 on a free loopback
// port: its own configuration, runtime and mail directories under the run
// directory, users in a passwd-file whose {ARGON2ID} hashes have the cost
// bbsmail's have (t=2, 19 MiB, p=1), and maildirs written by bbsbench. It
// never reads or changes /etc/dovecot.
type dovecot struct {
	dir    string
	port   int
	master *child
}

// errNoDovecot says why the POP3 baseline cannot run here.
var errNoDovecot = errors.New("dovecot baseline unavailable")

func newDovecot(ctx context.Context, p *procs, parent string, users []string, mailbox, size int) (*dovecot, error) {
	bin := findTool("dovecot")
	if bin == "" {
		return nil, fmt.Errorf("%w: dovecot not found (Debian packages dovecot-core and dovecot-pop3d)", errNoDovecot)
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("%w: a private Dovecot instance needs root (its mail belongs to nobody)", errNoDovecot)
	}
	owner, err := user.Lookup("nobody")
	if err != nil {
		return nil, fmt.Errorf("%w: no user nobody: %v", errNoDovecot, err)
	}
	uid, _ := strconv.Atoi(owner.Uid)
	gid, _ := strconv.Atoi(owner.Gid)
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	dv := &dovecot{dir: filepath.Join(parent, "dovecot"), port: ports[0]}
	// Dovecot's login and auth processes drop privileges and must reach
	// their sockets under the run directory.
	if err := os.Chmod(parent, 0o755); err != nil {
		return nil, err
	}
	if err := dv.writeMail(users, mailbox, size, uid, gid); err != nil {
		return nil, err
	}
	if err := dv.writeConfig(users, owner); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-F", "-c", filepath.Join(dv.dir, "dovecot.conf"))
	log, err := os.OpenFile(filepath.Join(dv.dir, "dovecot.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = childAttr(false)
	c, err := p.start("dovecot", cmd)
	if err != nil {
		return nil, err
	}
	dv.master = c
	if err := waitPort(ctx, c, dv.addr(), 30*time.Second); err != nil {
		dv.stop()
		return nil, fmt.Errorf("dovecot: %w\n%s", err, fileTail(filepath.Join(dv.dir, "dovecot.log"), 20))
	}
	return dv, nil
}

func (dv *dovecot) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(dv.port)) }

func (dv *dovecot) stop() {
	if dv.master != nil {
		dv.master.stop(20 * time.Second)
		dv.master = nil
	}
}

// writeMail writes mailbox messages of about size bytes into each user's
// maildir, owned by nobody, as a delivery agent would have.
func (dv *dovecot) writeMail(users []string, mailbox, size, uid, gid int) error {
	body := messageBody(size)
	// Dovecot's auth process (user dovecot) reads the passwd-file here.
	if err := os.MkdirAll(filepath.Join(dv.dir, "home"), 0o755); err != nil {
		return err
	}
	for _, u := range users {
		home := filepath.Join(dv.dir, "home", u)
		for _, sub := range []string{"cur", "new", "tmp"} {
			if err := os.MkdirAll(filepath.Join(home, "Maildir", sub), 0o700); err != nil {
				return err
			}
		}
		for i := 1; i <= mailbox; i++ {
			msg := fmt.Appendf(nil, "From: Bench <%s>\r\nTo: <%s@bbs.test>\r\nSubject: bbsbench %d\r\n"+
				"Date: %s\r\nMessage-ID: <%d.%s@bbsbench.invalid>\r\n\r\n", extSender, u, i,
				time.Now().Format(time.RFC1123Z), i, u)
			msg = append(msg, body...)
			name := fmt.Sprintf("%d.M%dP1.bbsbench,S=%d:2,S", 1700000000+i, i, len(msg))
			if err := os.WriteFile(filepath.Join(home, "Maildir", "cur", name), msg, 0o600); err != nil {
				return err
			}
		}
		err := filepath.Walk(home, func(path string, _ os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			return os.Chown(path, uid, gid)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// argon2idHash is a PHC string of password with bbsmail's cost, which
// Dovecot's {ARGON2ID} scheme (libsodium) verifies with the parameters it
// names.
func argon2idHash(password string) string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	const t, m, p = 2, 19 * 1024, 1
	key := argon2.IDKey([]byte(password), salt, t, m, p, 32)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, m, t, p,
		enc.EncodeToString(salt), enc.EncodeToString(key))
}

// writeConfig writes dovecot.conf and the passwd-file. Everything not set
// here is Dovecot's default (no authentication cache, a login process per
// connection).
func (dv *dovecot) writeConfig(users []string, owner *user.User) error {
	for _, d := range []string{"run", "state"} {
		if err := os.MkdirAll(filepath.Join(dv.dir, d), 0o755); err != nil {
			return err
		}
	}
	var pw strings.Builder
	for _, u := range users {
		fmt.Fprintf(&pw, "%s:{ARGON2ID}%s\n", u, argon2idHash(benchPass))
	}
	passwd := filepath.Join(dv.dir, "passwd")
	if err := os.WriteFile(passwd, []byte(pw.String()), 0o644); err != nil {
		return err
	}
	conf := fmt.Sprintf(`# written by bbsbench: a private instance on loopback
protocols = pop3
listen = 127.0.0.1
base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:~/Maildir
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = %[2]s
}
userdb {
  driver = static
  args = uid=%[3]s gid=%[4]s home=%[1]s/home/%%u
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = %[5]d
  }
  inet_listener pop3s {
    port = 0
  }
}
`, dv.dir, passwd, owner.Uid, owner.Gid, dv.port)
	return os.WriteFile(filepath.Join(dv.dir, "dovecot.conf"), []byte(conf), 0o644)
}
