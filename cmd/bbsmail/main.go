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

  user add [--password PW|-] [--realname NAME] [--netmail ADDR] ALIAS
  user list | passwd ALIAS | del ALIAS | online ALIAS on|off
  user set [--realname R] [--netmail ADDR] [--forward=BOOL] [--exempt-w=BOOL] [--level N] ALIAS
  mail list ALIAS | mail read ALIAS N
  sub list CODE | sub read CODE N
  netmail list
  telegram list ALIAS [--clear]
  queue list | retry [ID] | drop ID | clear-transit
  spam list | clear [--older-than DURATION]

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

func checkCmd(dir string, args []string, stdout, stderr io.Writer) int {
	withDB := len(args) == 1 && (args[0] == "--db" || args[0] == "-db")
	if len(args) > 0 && !withDB {
		fmt.Fprintln(stderr, "usage: bbsmail check [--db]")
		return 2
	}
	cfg, err := ctrl.Load(dir)
	if err != nil {
		fmt.Fprintln(stderr, "bbsmail:", err)
		return 1
	}
	if err := cfg.Dump(stdout); err != nil {
		fmt.Fprintln(stderr, "bbsmail:", err)
		return 1
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	fmt.Fprintf(stdout, "\n%s: configuration OK\n", dir)
	if withDB {
		return adminCmd(dir, []string{"db", "check"}, nil, stdout, stderr)
	}
	return 0
}

// mailbasePath is where the bbolt mailbase lives in the data directory.
func mailbasePath(cfg *ctrl.Config) string { return filepath.Join(cfg.Paths.Data, "bbsmail.db") }

func socketPath(cfg *ctrl.Config) string { return filepath.Join(cfg.Paths.Data, admin.SocketName) }

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

// needsPassword reports whether a user command will read a password.
func needsPassword(args []string) bool {
	if len(args) < 2 || args[0] != "user" || (args[1] != "add" && args[1] != "passwd") {
		return false
	}
	for i, a := range args {
		if a == "--password" || a == "-password" {
			return i+1 < len(args) && args[i+1] == "-"
		}
		if strings.HasPrefix(a, "--password=") || strings.HasPrefix(a, "-password=") {
			return strings.HasSuffix(a, "=-")
		}
	}
	return true
}

func openStore(cfg *ctrl.Config, lockWait time.Duration) (*store.DB, error) {
	if err := os.MkdirAll(cfg.Paths.Data, 0o755); err != nil {
		return nil, err
	}
	key, err := store.LoadOrCreateKey(filepath.Join(cfg.Paths.Ctrl, "secret.key"))
	if err != nil {
		return nil, err
	}
	return store.Open(mailbasePath(cfg), store.Options{LockTimeout: lockWait, Key: key})
}
