package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bbsmail/bbsmail/admin"
	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/store"
)

func openDB(t *testing.T) *store.DB {
	t.Helper()
	dir := t.TempDir()
	key, err := store.LoadOrCreateKey(filepath.Join(dir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(dir, "mail.db"), store.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// run runs a command line and returns its output and status.
func run(t *testing.T, env admin.Env, stdin string, line ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := admin.Run(context.Background(), env, line, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), code
}

func must(t *testing.T, env admin.Env, line ...string) string {
	t.Helper()
	out, errOut, code := run(t, env, "", line...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s%s", line, code, out, errOut)
	}
	return out
}

func TestUserCommands(t *testing.T) {
	db := openDB(t)
	env := admin.Env{DB: db}
	if out := must(t, env, "user", "add", "--password", "pw1", "--realname", "Rob Swindell", "Digital Man"); strings.TrimSpace(out) != "1" {
		t.Fatalf("user add printed %q, want the number 1", out)
	}
	// The password from standard input, flags after the alias.
	if out, e, code := run(t, env, "pw2\n", "user", "add", "bob", "--password", "-"); code != 0 || strings.TrimSpace(out) != "2" {
		t.Fatalf("user add from stdin: %q %q %d", out, e, code)
	}
	if _, e, code := run(t, env, "", "user", "add", "--password", "x", "digital_man"); code == 0 {
		t.Fatalf("a second user with the same alias (ignoring punctuation) was added: %s", e)
	}
	must(t, env, "user", "set", "--forward=true", "--netmail", "rob@example.org", "--exempt-w=true", "--level", "90", "digital.man")
	u, err := db.User(1)
	if err != nil || !u.Forward || !u.ExemptW || u.NetMail != "rob@example.org" || u.Level != 90 {
		t.Fatalf("user set did not take: %+v %v", u, err)
	}
	list := must(t, env, "user", "list")
	if !strings.Contains(list, "Digital Man") || !strings.Contains(list, "forward,exempt-w") {
		t.Fatalf("user list:\n%s", list)
	}
	must(t, env, "user", "passwd", "--password", "new", "bob")
	if ok, _ := db.CheckPassword(context.Background(), 2, "new"); !ok {
		t.Fatal("user passwd did not change the password")
	}
	must(t, env, "user", "online", "bob", "on")
	if u, _ := db.User(2); !u.Online {
		t.Fatal("user online did not set presence")
	}
	must(t, env, "user", "del", "bob")
	if out := must(t, env, "user", "list"); strings.Contains(out, "bob") {
		t.Fatalf("deleted user still listed:\n%s", out)
	}
	if _, _, code := run(t, env, "", "user", "set", "--level", "200", "digital man"); code != 2 {
		t.Fatalf("level 200 accepted (exit %d)", code)
	}
	if _, _, code := run(t, env, "", "user", "frobnicate"); code != 2 {
		t.Fatalf("unknown verb: exit %d, want 2", code)
	}
}

func TestMailQueueAndTelegrams(t *testing.T) {
	db := openDB(t)
	env := admin.Env{DB: db}
	n, err := db.AddUser(store.User{Alias: "alice"}, "pw")
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("From: Joe <joe@example.org>\r\nSubject: greetings\r\n\r\nhello\r\n")
	e := &envelope.Envelope{ReversePath: "joe@example.org", Rcpts: []envelope.Rcpt{
		{Kind: envelope.KindMailbox, User: n, To: "alice", Trace: []byte("Return-Path: <joe@example.org>\r\n")},
		{Kind: envelope.KindRemote, NetType: envelope.NetInternet, NetAddr: "x@example.net"},
		{Kind: envelope.KindSub, Sub: "LOCAL-GENERAL", To: "All"},
	}}
	if _, err := db.Deliver(e, msg); err != nil {
		t.Fatal(err)
	}
	if out := must(t, env, "mail", "list", "alice"); !strings.Contains(out, "greetings") || !strings.Contains(out, "Joe") {
		t.Fatalf("mail list:\n%s", out)
	}
	msgs, _ := db.Mailbox(n)
	if out := must(t, env, "mail", "read", "alice", itoa(msgs[0].ID)); !strings.HasPrefix(out, "Return-Path: <joe@example.org>\r\nFrom: Joe") {
		t.Fatalf("mail read:\n%q", out)
	}
	if out := must(t, env, "sub", "list", "local-general"); !strings.Contains(out, "greetings") {
		t.Fatalf("sub list:\n%s", out)
	}
	woke := false
	env.Wake = func() { woke = true }
	out := must(t, env, "queue", "list")
	if !strings.Contains(out, "x@example.net") || !strings.Contains(out, "1 entries") {
		t.Fatalf("queue list:\n%s", out)
	}
	q, _ := db.QueueList()
	must(t, env, "queue", "retry", itoa(q[0].ID))
	if !woke {
		t.Error("queue retry did not wake SendMail")
	}
	must(t, env, "queue", "drop", itoa(q[0].ID))
	if out := must(t, env, "queue", "list"); !strings.Contains(out, "0 entries") {
		t.Fatalf("queue after drop:\n%s", out)
	}
	if _, _, code := run(t, env, "", "queue", "drop", "x"); code != 2 {
		t.Fatalf("bad id: exit %d, want 2", code)
	}
	if err := db.AddTelegram(n, "Instant Message from bob: hi"); err != nil {
		t.Fatal(err)
	}
	if out := must(t, env, "telegram", "list", "alice", "--clear"); !strings.Contains(out, "Instant Message from bob") {
		t.Fatalf("telegram list:\n%s", out)
	}
	if out := must(t, env, "telegram", "list", "alice"); !strings.Contains(out, "no telegrams") {
		t.Fatalf("telegram list after --clear:\n%s", out)
	}
}

// A command sent over the control socket runs in the server and its output
// and exit status come back.
func TestControlSocket(t *testing.T) {
	db := openDB(t)
	sock := filepath.Join(t.TempDir(), admin.SocketName)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runFn := func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
		return admin.Run(ctx, admin.Env{DB: db}, args, stdin, stdout, stderr)
	}
	closeFn, err := admin.Listen(ctx, sock, runFn, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	var out, errOut bytes.Buffer
	code, err := admin.Forward(sock, []string{"user", "add", "--password", "-", "carol"}, []byte("pw\n"), &out, &errOut)
	if err != nil || code != 0 || strings.TrimSpace(out.String()) != "1" {
		t.Fatalf("forwarded user add: code %d err %v out %q err %q", code, err, out.String(), errOut.String())
	}
	if ok, _ := db.CheckPassword(context.Background(), 1, "pw"); !ok {
		t.Fatal("the password sent on standard input was not used")
	}
	out.Reset()
	code, _ = admin.Forward(sock, []string{"user", "passwd", "nobody", "--password", "x"}, nil, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "nobody") {
		t.Fatalf("failing command: code %d stderr %q", code, errOut.String())
	}
	if _, err := admin.Forward(filepath.Join(t.TempDir(), "none.sock"), []string{"user", "list"}, nil, &out, &errOut); err != admin.ErrNoServer {
		t.Fatalf("no server: err = %v, want ErrNoServer", err)
	}
}

// The command line refuses what would make a broken account or a silent
// no-op, and its errors say what to run next.
func TestCLIRoughEdges(t *testing.T) {
	db := openDB(t)
	env := admin.Env{DB: db}
	must(t, env, "user", "add", "--password", "pw", "alice")
	cases := []struct {
		line []string
		code int
		want string
	}{
		{[]string{"user", "add", "--password", "", "nopass"}, 2, "empty password: an account without one cannot log in"},
		{[]string{"user", "add", "--password", "pw", "An Alias Far Longer Than Synchronet"}, 2, "longer than 25 characters"},
		{[]string{"user", "add", "--password", "pw", "1st user"}, 2, "must begin with a letter"},
		{[]string{"user", "add", "--password", "pw", "two  spaces"}, 2, "two in a row"},
		{[]string{"user", "add", "--password", "pw", "--level", "100", "bob"}, 2, "level must be 0-99"},
		{[]string{"user", "set", "--alias", "9lives", "alice"}, 2, "must begin with a letter"},
		{[]string{"user", "list", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"queue", "list", "now"}, 2, `unexpected argument "now"`},
		{[]string{"mail", "read", "alice", "99"}, 1, `no message 99 in alice's mailbox (bbsmail mail list "alice")`},
		{[]string{"mail", "list", "nobody"}, 1, `no user "nobody" (bbsmail user list shows them)`},
		{[]string{"user", "del", "42"}, 1, "no user #42 (bbsmail user list shows them)"},
	}
	for _, c := range cases {
		_, errOut, code := run(t, env, "", c.line...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%q: exit %d, %q; want exit %d and %q", c.line, code, errOut, c.code, c.want)
		}
	}
	if users, _ := db.Users(); len(users) != 1 {
		t.Errorf("refused commands created users: %d", len(users))
	}
	// "bbsmail mail" lists every mailbox, as "bbsmail user" lists users.
	out := must(t, env, "mail")
	if !strings.Contains(out, "MESSAGES") || !strings.Contains(out, "alice") {
		t.Errorf("bbsmail mail:\n%s", out)
	}
}

// The command line forwards arguments and standard input (new passwords)
// only to a socket of the server's user: a local user who can write the
// data directory and put a socket of their own in the server's place gets
// nothing, and the command fails instead of running on the mailbase.
func TestForwardRefusesSocketOfAnotherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give the socket another owner")
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, admin.SocketName)
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// The impostor answers every request with exit status 3.
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = json.NewDecoder(c).Decode(new(any))
			_, _ = c.Write([]byte(`{"stdout":null,"stderr":null,"code":3}` + "\n"))
			c.Close()
		}
	}()
	if err := os.Chown(sock, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code, err := admin.Forward(sock, []string{"user", "passwd", "sysop", "--password", "-"}, []byte("New-Secret-1\n"), &out, &errOut)
	if err == nil || errors.Is(err, admin.ErrNoServer) {
		t.Fatalf("Forward to a socket of uid 4242: code %d err %v, want a refusal", code, err)
	}
	// The owner of the directory (the server's user) is trusted.
	if err := os.Chown(dir, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	if code, err := admin.Forward(sock, []string{"user", "list"}, nil, &out, &errOut); err != nil || code != 3 {
		t.Fatalf("Forward to the directory owner's socket: code %d err %v", code, err)
	}
}

// The control socket is created owner-only, without a chmod by name that a
// link put in its place could redirect.
func TestControlSocketMode(t *testing.T) {
	sock := filepath.Join(t.TempDir(), admin.SocketName)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	closeFn, err := admin.Listen(ctx, sock, func(context.Context, []string, io.Reader, io.Writer, io.Writer) int { return 0 }, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	fi, err := os.Lstat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm()&0o077 != 0 {
		t.Fatalf("control socket mode %v, want a socket for its owner only", fi.Mode())
	}
}
