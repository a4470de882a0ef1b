package ctrl_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bbsmail/bbsmail/ctrl"
)

// TestDumpGolden compares `bbsmail check` output for testdata/bbs with
// testdata/dump-bbs.want; a mismatch writes dump-bbs.got beside it.
func TestDumpGolden(t *testing.T) {
	t.Parallel()
	root := copyTree(t, filepath.Join("..", "testdata", "bbs"))
	c, err := ctrl.Load(filepath.Join(root, "ctrl"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := c.Dump(&buf); err != nil {
		t.Fatal(err)
	}
	got := strings.ReplaceAll(buf.String(), root, "$BBS")
	wantFile := filepath.Join("testdata", "dump-bbs.want")
	want, err := os.ReadFile(wantFile)
	if err != nil || got != string(want) {
		gotFile := strings.TrimSuffix(wantFile, ".want") + ".got"
		if werr := os.WriteFile(gotFile, []byte(got), 0o644); werr != nil {
			t.Log(werr)
		}
		t.Errorf("dump differs from %s (read error %v); see %s", wantFile, err, gotFile)
	}
}

func TestDumpHidesRelayPassword(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "ctrl")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ini := "[Mail]\n\tRelayServer = smtp.example.net\n\tRelayUsername = bbs\n\tRelayPassword = s3cr;et\n\tOptions = RELAY_TX|RELAY_AUTH_PLAIN\n"
	if err := os.WriteFile(filepath.Join(dir, "sbbs.ini"), []byte(ini), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := ctrl.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Mail.RelayPassword != "s3cr;et" {
		t.Errorf("RelayPassword = %q: ';' inside a value must be kept", c.Mail.RelayPassword)
	}
	var buf bytes.Buffer
	if err := c.Dump(&buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "s3cr") || !strings.Contains(buf.String(), "RelayPassword = (set)") {
		t.Errorf("dump shows the relay password or not its presence:\n%s", buf.String())
	}
}
