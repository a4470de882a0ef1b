package ctrl_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bbsmail/bbsmail/ctrl"
)

func loadSbbsIni(t *testing.T, text string) (*ctrl.Config, error) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ctrl")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sbbs.ini"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return ctrl.Load(dir)
}

func TestUnixSection(t *testing.T) {
	cfg, err := loadSbbsIni(t, "[UNIX]\n\tUser = nobody\n\tGroup = nogroup\n\tumask = 027\n\tPidFile = sbbs.pid\n\tRootMailProcessors = yes\n")
	if err != nil {
		t.Fatal(err)
	}
	u := cfg.Unix
	if u.User != "nobody" || u.Group != "nogroup" || u.Umask != 0o027 || !u.RootMailProcessors {
		t.Errorf("Unix = %+v", u)
	}
	if want := filepath.Join(cfg.Paths.Ctrl, "sbbs.pid"); u.PidFile != want {
		t.Errorf("PidFile = %q, want %q (relative to ctrl/)", u.PidFile, want)
	}
}

func TestUnixSectionAbsent(t *testing.T) {
	cfg, err := loadSbbsIni(t, "[Mail]\n")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Unix.Umask != -1 || cfg.Unix.User != "" || cfg.Unix.PidFile != "" {
		t.Errorf("Unix = %+v, want nothing set", cfg.Unix)
	}
}

func TestUnixSectionBadValues(t *testing.T) {
	for _, text := range []string{"[UNIX]\numask = 099\n", "[UNIX]\nRootMailProcessors = maybe\n"} {
		_, err := loadSbbsIni(t, text)
		if err == nil || !strings.Contains(err.Error(), "sbbs.ini:2: [UNIX]") {
			t.Errorf("%q: err = %v, want one naming sbbs.ini:2 [UNIX]", text, err)
		}
	}
}
