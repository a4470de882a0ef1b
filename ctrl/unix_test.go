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

// LogFacility takes Synchronet's forms (a digit for LOCALn, User, S) and
// the syslog names.
func TestUnixLogFacility(t *testing.T) {
	for v, want := range map[string]int{"3": 19, "0": 16, "User": 1, "U": 1, "S": 2, "local7": 23, "LOCAL1": 17, "mail": 2, "daemon": 3} {
		cfg, err := loadSbbsIni(t, "[UNIX]\n\tLogFacility = "+v+"\n\tLogIdent = bbs\n")
		if err != nil {
			t.Errorf("%q: %v", v, err)
			continue
		}
		if cfg.Unix.LogFacility != want || cfg.Unix.LogIdent != "bbs" {
			t.Errorf("LogFacility = %q: got %d ident %q, want %d", v, cfg.Unix.LogFacility, cfg.Unix.LogIdent, want)
		}
	}
}

// A facility bbsmail cannot place stops the server at startup, naming the
// file, line, section and key.
func TestUnixLogFacilityBad(t *testing.T) {
	for _, v := range []string{"8", "local8", "Local", "kern", "mail2", "LOCAL_3"} {
		_, err := loadSbbsIni(t, "[UNIX]\n\tLogFacility = "+v+"\n")
		if err == nil || !strings.Contains(err.Error(), "sbbs.ini:2: [UNIX] LogFacility") || !strings.Contains(err.Error(), v) {
			t.Errorf("LogFacility = %q: err = %v, want one naming sbbs.ini:2 [UNIX] LogFacility and the value", v, err)
		}
	}
}

// Daemonize is Synchronet's boolean; a bad value stops startup naming it.
func TestUnixDaemonize(t *testing.T) {
	cfg, err := loadSbbsIni(t, "[UNIX]\n\tDaemonize = true\n")
	if err != nil || !cfg.Unix.Daemonize {
		t.Fatalf("Daemonize = true: %+v, %v", cfg.Unix, err)
	}
	if _, err := loadSbbsIni(t, "[UNIX]\n\tDaemonize = sometimes\n"); err == nil || !strings.Contains(err.Error(), "sbbs.ini:2: [UNIX] Daemonize") {
		t.Errorf("Daemonize = sometimes: err = %v", err)
	}
}
