package mailproc_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/mailproc"
)

// tree is a BBS directory tree of its own for one test.
type tree struct {
	root, ctrl, temp, exec, mods, data, text string
	log                                      *logBuffer
}

func newTree(t *testing.T) *tree {
	t.Helper()
	root := t.TempDir()
	tr := &tree{root: root, log: &logBuffer{}}
	tr.ctrl = filepath.Join(root, "ctrl")
	tr.temp = filepath.Join(root, "temp")
	tr.exec = filepath.Join(root, "exec")
	tr.mods = filepath.Join(root, "mods")
	tr.data = filepath.Join(root, "data")
	tr.text = filepath.Join(root, "text")
	for _, d := range []string{tr.ctrl, tr.temp, tr.exec, tr.mods, tr.data, tr.text} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return tr
}

func (tr *tree) config() mailproc.Config {
	return mailproc.Config{
		CtrlDir: tr.ctrl, TempDir: tr.temp, DataDir: tr.data, TextDir: tr.text,
		ExecDir: tr.exec, ModsDir: tr.mods,
		FQDN: "bbs.example.org", Host: "bbs", Platform: "linux",
		System: mailproc.System{Name: "Test BBS", Operator: "Sysop Sam", QWKID: "TESTBBS",
			InetAddr: "bbs.example.org", Version: "1.0"},
		Timeout: 30 * time.Second,
		Logger:  slog.New(slog.NewTextHandler(tr.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// write puts a file into the tree (relative to its root), executable when
// it is a shell script.
func (tr *tree) write(t *testing.T, rel, content string) string {
	t.Helper()
	path := filepath.Join(tr.root, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	mode := os.FileMode(0o644)
	if strings.HasSuffix(rel, ".sh") {
		mode = 0o755
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// load writes mailproc.ini and loads it with cfg (nil: the tree's config).
func (tr *tree) load(t *testing.T, ini string, mutate func(*mailproc.Config)) *mailproc.Set {
	t.Helper()
	tr.write(t, "ctrl/mailproc.ini", ini)
	cfg := tr.config()
	if mutate != nil {
		mutate(&cfg)
	}
	s, _, err := mailproc.Load(cfg)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}

// noTempFiles fails when a run left SBBS_* files behind.
func (tr *tree) noTempFiles(t *testing.T) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(tr.temp, "SBBS_*"))
	if len(left) > 0 {
		t.Fatalf("temporary files left behind: %v", left)
	}
}

const testMsg = "From: Joe Sender <joe@example.org>\r\n" +
	"To: Sysop Sam <sysop@bbs.example.org>\r\n" +
	"Subject: hello\r\n" +
	"\r\n" +
	"Hello there.\r\n"

// user1 and user2 are local recipients as route resolves them, with a
// trace each so that the tests can see originals come back unchanged.
var (
	user1 = envelope.Rcpt{Kind: envelope.KindMailbox, To: "Sysop Sam", User: 1,
		ForwardPath: "<sysop@bbs.example.org>", Trace: []byte("Received: for sysop\r\n")}
	user2 = envelope.Rcpt{Kind: envelope.KindMailbox, To: "Digital Man", User: 2,
		ForwardPath: "<digital.man@bbs.example.org>", Trace: []byte("Received: for dm\r\n")}
)

func input(rcpts ...envelope.Rcpt) mailproc.Input {
	return mailproc.Input{
		Env: &envelope.Envelope{
			ID: "test.1", ReversePath: "joe@example.org", Helo: "mx.example.org",
			ClientIP: "192.0.2.7", ClientHost: "mx.example.org", Rcpts: rcpts,
		},
		Text:       []byte(testMsg),
		SenderName: "Joe Sender", SenderAddr: "joe@example.org",
		LastRcpt: "sysop@bbs.example.org",
	}
}

func run(t *testing.T, s *mailproc.Set, in mailproc.Input) mailproc.Output {
	t.Helper()
	out, err := s.Run(context.Background(), in)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return out
}

// logBuffer collects log output; processors' goroutines may log at once.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
