// Command bbsmail is the BBS mail server and its command line.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bbsmail/bbsmail/admin"
	"github.com/bbsmail/bbsmail/ctrl"
	"github.com/bbsmail/bbsmail/store"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

const usage = `usage: bbsmail [-ctrl DIR] COMMAND ...

  serve                   run the mail server (SMTP, submission, POP3, SendMail)
  demo [-dir DIR]         run a demo BBS on unprivileged loopback ports
  check [--db]            validate the configuration and print its effective values;
                          --db also checks the mailbase (bbolt pages, reference counts, queue index)
  version                 print the version

  backup FILE             write a consistent copy of the mailbase (safe while the server runs)
  restore FILE            put a backup in place of the mailbase (server stopped)
  status                  the running server's uptime, sessions, queue and counters
  maint                   purge deleted and kill-read mail; compact the file when the server is stopped
  db check | purge [--all-read] | backup
  dkim keygen [--selector S] [--domain D] [--type rsa|ed25519] [--bits N] [--force] | dkim check [--selector S] [--domain D]

  user add [--password PW|-] [--realname NAME] [--netmail ADDR] [--level N] ALIAS
  user list [--all] | passwd [--password PW|-] ALIAS | del ALIAS | online ALIAS on|off
  user set [--alias A] [--realname R] [--netmail ADDR] [--forward=BOOL] [--exempt-w=BOOL]
           [--inactive=BOOL] [--restrict-i=BOOL] [--restrict-m=BOOL] [--restrict-g=BOOL] [--level N] ALIAS
  user import [--dry-run] PATH   Synchronet's data/user/user.tab or user.dat (or the directory)
  mail [list [ALIAS]] | mail read ALIAS N
  sub list CODE | sub read CODE N
  netmail list | export | scan
  qwk pack HUBID | unpack HUBID
  telegram list ALIAS [--clear]
  queue list | retry [ID] | drop ID | clear-transit
  spam list | clear [--older-than DURATION]

  dkim keygen [--selector S] [--domain D] [--type rsa|ed25519] [--bits N] [--force]
  dkim check [--selector S] [--domain D]

The control directory is -ctrl DIR, else $SBBSCTRL, else /sbbs/ctrl.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	dir, args, err := ctrlFlag(args)
	if err != nil {
		fmt.Fprintln(stderr, "bbsmail:", err)
		return 2
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serveCmd(dir, stderr)
	case "demo":
		return demoCmd(args[1:], stdout, stderr)
	case "check":
		return checkCmd(dir, args[1:], stdout, stderr)
	case "dkim":
		return dkimCmd(dir, args[1:], stdout, stderr)
	case "backup":
		return backupCmd(dir, args[1:], stdout, stderr)
	case "restore":
		return restoreCmd(dir, args[1:], stdout, stderr)
	case "maint":
		return maintCmd(dir, args[1:], stdout, stderr)
	case "status":
		return statusCmd(dir, stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintf(stdout, "bbsmail %s\n", version)
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	if len(args) == 2 && args[0] == "netmail" && (args[1] == "export" || args[1] == "scan") {
		return netmailCmd(dir, args[1:], stdout, stderr)
	}
	if len(args) == 3 && args[0] == "qwk" && (args[1] == "pack" || args[1] == "unpack") {
		return qwkCmd(dir, args[1:], stdout, stderr)
	}
	if admin.IsCommand(args) {
		return adminCmd(dir, args, stdin, stdout, stderr)
	}
	fmt.Fprintf(stderr, "bbsmail: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// ctrlFlag takes -ctrl DIR (or --ctrl, -ctrl=DIR) from anywhere in args and
// applies the $SBBSCTRL and /sbbs/ctrl fallbacks.
func ctrlFlag(args []string) (string, []string, error) {
	dir := ""
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-ctrl" || a == "--ctrl":
			if i+1 >= len(args) {
				return "", nil, errors.New("-ctrl needs a directory")
			}
			dir = args[i+1]
			i++
		case strings.HasPrefix(a, "-ctrl=") || strings.HasPrefix(a, "--ctrl="):
			dir = a[strings.IndexByte(a, '=')+1:]
		default:
			rest = append(rest, a)
		}
	}
	if dir == "" {
		dir = os.Getenv("SBBSCTRL")
	}
	if dir == "" {
		dir = "/sbbs/ctrl"
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", nil, err
	}
	return abs, rest, nil
}

// mailbasePath is where the bbolt mailbase lives in the data directory.
func mailbasePath(cfg *ctrl.Config) string { return filepath.Join(cfg.Paths.Data, "bbsmail.db") }

func socketPath(cfg *ctrl.Config) string { return filepath.Join(cfg.Paths.Data, admin.SocketName) }

// secretKeyPath is the mailbase's secret key (it protects passwords).
func secretKeyPath(cfg *ctrl.Config) string { return filepath.Join(cfg.Paths.Ctrl, "secret.key") }

// adminCmd runs a mailbase command: through the running server's control
// socket when there is one, else on the mailbase directly.
func adminCmd(dir string, args []string, stdin *os.File, stdout, stderr io.Writer) int {
	if _, err := os.Stat(dir); err != nil {
		fmt.Fprintf(stderr, "bbsmail: no control directory %s (pass -ctrl DIR or set SBBSCTRL; `bbsmail serve` creates one)\n", dir)
		return 1
	}
	cfg, err := ctrl.Load(dir)
	if err != nil {
		fmt.Fprintln(stderr, "bbsmail:", err)
		return 1
	}
	args = absolutePaths(args)
	input, err := commandInput(args, stdin, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "bbsmail:", err)
		return 1
	}
	code, err := admin.Forward(socketPath(cfg), args, input, stdout, stderr)
	if err == nil {
		return code
	}
	if !errors.Is(err, admin.ErrNoServer) {
		fmt.Fprintln(stderr, "bbsmail:", err)
		return 1
	}
	db, err := openStore(cfg, time.Second)
	if errors.Is(err, store.ErrLocked) {
		fmt.Fprintf(stderr, "bbsmail: the mailbase is held by a running server, but its control socket %s does not answer\n", socketPath(cfg))
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, "bbsmail:", err)
		return 1
	}
	defer db.Close()
	return admin.Run(context.Background(), admin.Env{DB: db}, args, bytes.NewReader(input), stdout, stderr)
}

// commandInput reads what a command may need from standard input: all of
// it when it is a pipe or file, or a password typed at a prompt.
func commandInput(args []string, stdin *os.File, stderr io.Writer) ([]byte, error) {
	fi, err := stdin.Stat()
	if err != nil {
		return nil, nil
	}
	if fi.Mode()&os.ModeCharDevice == 0 {
		return io.ReadAll(io.LimitReader(stdin, 1<<20))
	}
	if !needsPassword(args) {
		return nil, nil
	}
	fmt.Fprint(stderr, "Password: ")
	var line []byte
	buf := make([]byte, 1)
	for {
		n, err := stdin.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				break
			}
			line = append(line, buf[0])
		}
		if err != nil {
			break
		}
	}
	return append(line, '\n'), nil
}

// absolutePaths makes the file arguments of commands that read a file
// absolute: the running server, not this process, opens them.
func absolutePaths(args []string) []string {
	if len(args) < 3 || args[0] != "user" || args[1] != "import" {
		return args
	}
	out := append([]string(nil), args...)
	for i := 2; i < len(out); i++ {
		if !strings.HasPrefix(out[i], "-") {
			if abs, err := filepath.Abs(out[i]); err == nil {
				out[i] = abs
			}
		}
	}
	return out
}

// needsPassword reports whether a user command will read a password: only
// when it names its user (the server reports a missing one before anybody
// types a password) and no --password value other than "-" was given.
func needsPassword(args []string) bool {
	if len(args) < 2 || args[0] != "user" || (args[1] != "add" && args[1] != "passwd") {
		return false
	}
	named, prompt := false, true
	for i := 2; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch {
		case !strings.HasPrefix(a, "-"):
			named = true
		case name == "password" && hasValue:
			prompt = value == "-"
		case name == "password":
			prompt = i+1 < len(args) && args[i+1] == "-"
			i++
		case !hasValue:
			i++ // --realname NAME, --netmail ADDR, --level N
		}
	}
	return named && prompt
}

func openStore(cfg *ctrl.Config, lockWait time.Duration) (*store.DB, error) {
	return openStoreObserved(cfg, lockWait, nil)
}

// openStoreObserved is openStore for the server, whose commits report
// their batch size to onCommit.
func openStoreObserved(cfg *ctrl.Config, lockWait time.Duration, onCommit func(int)) (*store.DB, error) {
	if err := os.MkdirAll(cfg.Paths.Data, 0o755); err != nil {
		return nil, err
	}
	key, err := store.LoadOrCreateKey(secretKeyPath(cfg))
	if err != nil {
		return nil, err
	}
	return store.Open(mailbasePath(cfg), store.Options{LockTimeout: lockWait, Key: key, OnCommit: onCommit})
}
