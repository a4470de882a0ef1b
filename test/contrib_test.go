package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// contribUnit is the shipped systemd unit.
const contribUnit = "../contrib/systemd/bbsmail.service"

// The unit file passes systemd's own checks (with ExecStart pointing at
// the test binary, and without the man page, which only the package
// installs) and keeps the settings docs/operations.md promises.
func TestContribSystemdUnit(t *testing.T) {
	data, err := os.ReadFile(contribUnit)
	if err != nil {
		t.Fatal(err)
	}
	unit := string(data)
	for _, want := range []string{
		"Type=notify\n", "ExecReload=/bin/kill -HUP $MAINPID\n", "ExecStart=/usr/bin/bbsmail serve\n",
		"ProtectSystem=strict\n", "ReadWritePaths=/sbbs\n", "NoNewPrivileges=yes\n", "PrivateTmp=yes\n",
		"ProtectHome=yes\n", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6\n",
		"CapabilityBoundingSet=CAP_NET_BIND_SERVICE\n", "AmbientCapabilities=CAP_NET_BIND_SERVICE\n", "LimitNOFILE=",
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("%s lacks %q", contribUnit, strings.TrimSpace(want))
		}
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed (Debian: systemd): unit not verified")
	}
	unit = strings.Replace(unit, "/usr/bin/bbsmail", bin, 1)
	unit = strings.Replace(unit, "Documentation=man:bbsmail(8)\n", "", 1)
	path := filepath.Join(t.TempDir(), "bbsmail.service")
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
