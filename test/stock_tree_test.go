package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A copy of Synchronet's stock tree (ctrl/, text/ and exec/ as shipped)
// passes `bbsmail check` with nothing the sysop has to act on: every
// setting is understood, the stock mail processors load, and there is no
// warning at all.
func TestStockTreeChecksClean(t *testing.T) {
	t.Parallel()
	sample := stockSample(t)
	root := t.TempDir()
	for _, d := range []string{"ctrl", "text", "exec"} {
		if err := copyTree(filepath.Join(sample, d), filepath.Join(root, d)); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "check", "-ctrl", filepath.Join(root, "ctrl"))
	cmd.Env = append(os.Environ(), "SBBSCTRL=")
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("check on the stock tree: %v\n%s%s", err, out.String(), errOut.String())
	}
	if strings.Contains(strings.ToLower(errOut.String()), "warning") {
		t.Errorf("check on the stock tree warns:\n%s", errOut.String())
	}
	if !strings.Contains(out.String(), "2 mail processors from") || !strings.Contains(out.String(), "configuration OK") {
		t.Errorf("check on the stock tree:\n%s", out.String())
	}
}
