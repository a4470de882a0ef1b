package ctrl_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bbsmail/bbsmail/ctrl"
)

// TestBadConfigs loads every broken control directory under
// testdata/ctrl-bad: each must refuse to start with an error naming the
// file, line and key, as its expected-error file says.
func TestBadConfigs(t *testing.T) {
	t.Parallel()
	base := filepath.Join("..", "testdata", "ctrl-bad")
	dirs, err := os.ReadDir(base)
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 12 {
		t.Fatalf("only %d bad configurations", len(dirs))
	}
	for _, d := range dirs {
		t.Run(d.Name(), func(t *testing.T) {
			t.Parallel()
			want, err := os.ReadFile(filepath.Join(base, d.Name(), "expected-error"))
			if err != nil {
				t.Fatal(err)
			}
			root := copyTree(t, filepath.Join(base, d.Name()))
			// git keeps no empty directories: a case that breaks only a
			// text/ file has no ctrl/ in the checkout.
			if err := os.MkdirAll(filepath.Join(root, "ctrl"), 0o755); err != nil {
				t.Fatal(err)
			}
			c, err := ctrl.Load(filepath.Join(root, "ctrl"))
			if err == nil {
				t.Fatalf("loaded without error (warnings %q)", c.Warnings)
			}
			if !strings.Contains(err.Error(), strings.TrimSpace(string(want))) {
				t.Errorf("error %q\ndoes not contain %q", err, strings.TrimSpace(string(want)))
			}
			var ce *ctrl.Error
			if !errors.As(err, &ce) || ce.File == "" || ce.Line == 0 {
				t.Errorf("error %q is not a *ctrl.Error with file and line", err)
			}
		})
	}
}
