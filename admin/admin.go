package admin

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/bbsmail/bbsmail/store"
)

// Env is what the commands work on.
type Env struct {
	DB *store.DB
	// Wake tells a running SendMail about retried queue entries; nil when
	// the command runs without a server.
	Wake func()
}

// Exit statuses.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

type cmdFunc func(ctx context.Context, env Env, args []string, io stdio) error

type stdio struct {
	in       io.Reader
	out, err io.Writer
}

var commands = map[string]map[string]cmdFunc{
	"user": {
		"add": userAdd, "list": userList, "passwd": userPasswd, "del": userDel,
		"set": userSet, "online": userOnline, "import": userImport,
	},
	"mail":     {"list": mailList, "read": mailRead},
	"sub":      {"list": subList, "read": subRead},
	"netmail":  {"list": netmailList},
	"telegram": {"list": telegramList},
	"queue":    {"list": queueList, "retry": queueRetry, "drop": queueDrop, "clear-transit": queueClearTransit},
	"spam":     {"list": spamList, "clear": spamClear},
}

// IsCommand reports whether args name a mailbase command Run handles.
func IsCommand(args []string) bool {
	if len(args) == 0 {
		return false
	}
	_, ok := commands[args[0]]
	return ok
}

// Run runs one command line such as ["user", "add", "--password", "x",
// "alice"] and returns the process exit status.
func Run(ctx context.Context, env Env, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	sio := stdio{in: stdin, out: stdout, err: stderr}
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: bbsmail user|mail|sub|netmail|telegram|queue|spam ...")
		return exitUsage
	}
	group, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "unknown command %q\n", args[0])
		return exitUsage
	}
	verb := "list"
	rest := args[1:]
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		verb, rest = rest[0], rest[1:]
	}
	fn, ok := group[verb]
	if !ok {
		fmt.Fprintf(stderr, "unknown command %q %q; one of: %s\n", args[0], verb, verbs(group))
		return exitUsage
	}
	if err := fn(ctx, env, rest, sio); err != nil {
		fmt.Fprintf(stderr, "bbsmail %s %s: %v\n", args[0], verb, err)
		var ue usageError
		if errors.As(err, &ue) {
			return exitUsage
		}
		return exitFail
	}
	return exitOK
}

func verbs(group map[string]cmdFunc) string {
	var v []string
	for k := range group {
		v = append(v, k)
	}
	sortStrings(v)
	return strings.Join(v, ", ")
}

// parse parses flags anywhere on the line ("user add alice --password x"
// as well as "user add --password x alice") and returns the positionals.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// parseNone parses a command line that takes flags only: anything else
// is an error rather than silently ignored.
func parseNone(fs *flag.FlagSet, args []string) error {
	pos, err := parse(fs, args)
	if err == nil && len(pos) > 0 {
		err = usagef("unexpected argument %q", pos[0])
	}
	return err
}

func wantArgs(pos []string, n int, names string) error {
	if len(pos) != n {
		return usagef("want %s", names)
	}
	return nil
}

// findUser takes an alias (fuzzy, as mail addressing does) or a number.
func findUser(db *store.DB, name string) (store.User, error) {
	if n, err := strconv.ParseUint(name, 10, 32); err == nil {
		u, err := db.User(uint32(n))
		if errors.Is(err, store.ErrNotFound) {
			return u, fmt.Errorf("no user #%d (bbsmail user list shows them)", n)
		}
		if err != nil {
			return u, fmt.Errorf("user #%d: %w", n, err)
		}
		return u, nil
	}
	u, err := db.UserByAlias(name)
	if errors.Is(err, store.ErrNotFound) {
		return u, fmt.Errorf("no user %q (bbsmail user list shows them)", name)
	}
	if err != nil {
		return u, fmt.Errorf("user %q: %w", name, err)
	}
	return u, nil
}

// readPassword takes --password, or "-" for the first line of standard
// input, or prompts on standard input when nothing was given.
func readPassword(flagVal string, set bool, sio stdio) (string, error) {
	if set && flagVal == "" {
		return "", usagef("empty password: an account without one cannot log in")
	}
	if set && flagVal != "-" {
		return flagVal, nil
	}
	if !set {
		fmt.Fprint(sio.err, "Password: ")
	}
	line, err := bufio.NewReader(sio.in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", usagef("empty password")
	}
	return pw, nil
}

// userLine parses a command line whose first positional names a user (an
// alias or a number) and that takes n positionals in all.
func userLine(env Env, fs *flag.FlagSet, args []string, n int, usage string) (store.User, []string, error) {
	pos, err := parse(fs, args)
	if err != nil {
		return store.User{}, nil, err
	}
	if err := wantArgs(pos, n, usage); err != nil {
		return store.User{}, nil, err
	}
	u, err := findUser(env.DB, pos[0])
	return u, pos, err
}
