package test

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// needTool skips the test, saying which package to install, when an
// external client is missing. CI installs all of them (.ci/run).
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		for _, dir := range []string{"/usr/sbin", "/usr/local/sbin"} {
			if c := filepath.Join(dir, name); fileExists(c) {
				return c
			}
		}
		t.Skipf("%s not found: install the Debian package %q to run this interop test", name, pkg)
	}
	return p
}

// python runs testdata/interop/<script> with python3 and the given
// arguments; it fails the test with the script's output when the script
// exits non-zero, and returns its standard output otherwise.
func python(t *testing.T, script string, args ...string) string {
	t.Helper()
	py := needTool(t, "python3", "python3")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, append([]string{filepath.Join("testdata", "interop", script)}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("python3 %s %s: %v\nstdout:\n%s\nstderr:\n%s", script, strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String()
}

func itoa(n int) string { return strconv.Itoa(n) }
