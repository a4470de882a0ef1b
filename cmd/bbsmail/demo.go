package main

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/bbsmail/bbsmail/ctrl"
	"github.com/bbsmail/bbsmail/store"
)

// demoCmd creates (or reuses) a demo BBS tree, gives the user "demo" a
// fresh random password, prints how to use it and serves.
func demoCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "bbsmail-demo", "directory of the demo BBS tree")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	root, err := filepath.Abs(*dir)
	if err != nil {
		fmt.Fprintln(stderr, "bbsmail:", err)
		return 1
	}
	ctrlDir := filepath.Join(root, "ctrl")
	if _, err := os.Stat(ctrlDir); errors.Is(err, os.ErrNotExist) {
		if err := ctrl.InitDemo(ctrlDir); err != nil {
			fmt.Fprintln(stderr, "bbsmail:", err)
			return 1
		}
	}
	pw, err := demoUser(ctrlDir)
	if err != nil {
		fmt.Fprintln(stderr, "bbsmail:", err)
		return 1
	}
	cfg, err := ctrl.Load(ctrlDir)
	if err != nil {
		fmt.Fprintln(stderr, "bbsmail:", err)
		return 1
	}
	if err := demoPortsFree(cfg); err != nil {
		fmt.Fprintln(stderr, "bbsmail:", err)
		return 1
	}
	m := cfg.Mail
	fmt.Fprintf(stdout, `bbsmail demo BBS in %s
  domain     %s
  user       demo   password %s
  SMTP       127.0.0.1:%d   submission %d (STARTTLS)   SMTPS %d
  POP3       127.0.0.1:%d   POP3S %d
  send       swaks --server 127.0.0.1:%d --to demo@%s --from you@example.org
  read       curl -u demo:%s pop3://127.0.0.1:%d/1
  mailbox    bbsmail -ctrl %s mail list demo
  stop with Ctrl-C; the tree stays for the next run (which prints a new password)

`, root, cfg.System.InetAddr, pw, m.SMTPPort, m.SubmissionPort, m.TLSSubmissionPort, m.POP3Port, m.TLSPOP3Port,
		m.SMTPPort, cfg.System.InetAddr, pw, m.POP3Port, ctrlDir)
	return serveCmd(ctrlDir, stderr)
}

// demoPortsFree tries each port the demo listens on and, when another
// program holds one, says at once which and where to change it, instead
// of retrying the bind as serve does for a real BBS.
func demoPortsFree(cfg *ctrl.Config) error {
	m := cfg.Mail
	ports := []struct {
		key  string
		port int
		ifs  []string
	}{
		{"SMTPPort", m.SMTPPort, m.Interfaces}, {"SubmissionPort", m.SubmissionPort, m.Interfaces},
		{"TLSSubmissionPort", m.TLSSubmissionPort, m.Interfaces}, {"POP3Port", m.POP3Port, m.POP3Interfaces},
		{"TLSPOP3Port", m.TLSPOP3Port, m.POP3Interfaces},
	}
	for _, p := range ports {
		if p.port == 0 {
			continue
		}
		ifs := p.ifs
		if len(ifs) == 0 {
			ifs = []string{"0.0.0.0"}
		}
		for _, iface := range ifs {
			addr, network := listenAddr(strings.TrimSpace(iface), p.port)
			l, err := net.Listen(network, addr)
			if errors.Is(err, syscall.EADDRINUSE) {
				return fmt.Errorf("port %d (%s) on %s is taken by another program: set another %s in [Mail] of %s, or stop that program",
					p.port, p.key, addr, p.key, cfg.Paths.SBBSIni)
			}
			if err == nil {
				l.Close()
			}
		}
	}
	return nil
}

// demoUser creates the user "demo" or resets its password.
func demoUser(ctrlDir string) (string, error) {
	cfg, err := ctrl.Load(ctrlDir)
	if err != nil {
		return "", err
	}
	db, err := openStore(cfg, 2*time.Second)
	if errors.Is(err, store.ErrLocked) {
		return "", fmt.Errorf("the demo BBS in %s is already running", filepath.Dir(ctrlDir))
	}
	if err != nil {
		return "", err
	}
	defer db.Close()
	pw := randomPassword()
	u, err := db.UserByAlias("demo")
	if errors.Is(err, store.ErrNotFound) {
		_, err = db.AddUser(store.User{Alias: "demo", RealName: "Demo User", Level: 50}, pw)
		return pw, err
	}
	if err != nil {
		return "", err
	}
	return pw, db.SetPassword(u.Number, pw)
}

func randomPassword() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}
