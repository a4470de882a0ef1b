package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The Debian package that `make deb` builds installs with dpkg into a
// fresh root: dpkg records it as installed, postinst creates the bbsmail
// system user and its directory there, and the installed binary runs
// `version` and `check`. The fresh root has no packages, so the host's
// useradd stands in for the passwd dependency (--force-depends) and the
// maintainer scripts run against the root without chroot
// (--force-script-chrootless, DPKG_ROOT).
func TestDebPackageInstalls(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: dpkg and postinst set owners in the fresh root")
	}
	for _, tool := range []string{"dpkg-deb", "dpkg", "useradd"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: the package is not built", tool)
		}
	}
	tmp := t.TempDir()
	// The binary the other tests use: `make deb` builds a static one with
	// the version set, but what is checked here is the packaging.
	deb := strings.TrimSpace(debRun(t, "", "../contrib/debian/build-deb.sh", bin, "9.8.7", runtime.GOARCH, tmp))
	if filepath.Base(deb) != "bbsmail_9.8.7_"+runtime.GOARCH+".deb" {
		t.Fatalf("build-deb.sh printed %q", deb)
	}

	root := filepath.Join(tmp, "root")
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates", "etc"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, text := range map[string]string{
		"var/lib/dpkg/status": "", "var/lib/dpkg/available": "",
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\n", "etc/group": "root:x:0:\n",
		"etc/shadow": "root:*:19000:0:99999:7:::\n", "etc/gshadow": "root:*::\n",
	} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	debRun(t, "", "dpkg", "--root="+root, "--force-script-chrootless", "--force-depends", "--log=/dev/null", "-i", deb)

	if st := debRun(t, "", "dpkg", "--root="+root, "-s", "bbsmail"); !strings.Contains(st, "Status: install ok installed") || !strings.Contains(st, "Version: 9.8.7") {
		t.Errorf("dpkg -s bbsmail:\n%s", st)
	}
	passwd, _ := os.ReadFile(filepath.Join(root, "etc/passwd"))
	if !strings.Contains(string(passwd), "\nbbsmail:x:") || !strings.Contains(string(passwd), ":/var/lib/bbsmail:/usr/sbin/nologin\n") {
		t.Errorf("postinst did not create the system user:\n%s", passwd)
	}
	if fi, err := os.Stat(filepath.Join(root, "var/lib/bbsmail")); err != nil || !fi.IsDir() {
		t.Errorf("postinst did not create /var/lib/bbsmail: %v", err)
	}
	unit, _ := os.ReadFile(filepath.Join(root, "lib/systemd/system/bbsmail.service"))
	if !strings.Contains(string(unit), "Environment=SBBSCTRL=/var/lib/bbsmail/ctrl\n") || !strings.Contains(string(unit), "ReadWritePaths=/var/lib/bbsmail\n") {
		t.Errorf("packaged unit does not point at /var/lib/bbsmail:\n%s", unit)
	}
	for _, f := range []string{"usr/share/man/man8/bbsmail.8.gz", "usr/share/bbsmail/fail2ban/filter.d/bbsmail.conf", "usr/share/doc/bbsmail/operations.md"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("not installed: /%s", f)
		}
	}

	installed := filepath.Join(root, "usr/bin/bbsmail")
	if out := debRun(t, "", installed, "version"); !strings.HasPrefix(out, "bbsmail ") {
		t.Errorf("installed bbsmail version: %q", out)
	}
	b := newBBS(t)
	b.writeIni()
	if out := debRun(t, "", installed, "check", "-ctrl", b.ctrl); !strings.Contains(out, "configuration OK") {
		t.Errorf("installed bbsmail check:\n%s", out)
	}
}

// debRun runs a command in dir and returns its standard output, failing the
// test with everything it printed when it fails.
func debRun(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	// xz takes minutes on a busy machine; the format is not under test.
	cmd.Env = append(os.Environ(), "DEB_COMPRESS=gzip")
	var errOut strings.Builder
	cmd.Stderr = &errOut
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, errOut.String())
	}
	return string(out)
}
