package bbsmail_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/bbsmail/bbsmail"

// forbidden lists, per package, the project packages and modules it must
// never depend on (directly or through others). The rules are those of
// HACKING.md: dependencies point down, protocol packages never import each
// other, the store or the configuration loader, and only store touches bbolt.
// guard (the failed-login tracker and rate limiter) is wiring's business:
// only cmd/bbsmail imports it, and it takes plain values.
var forbidden = map[string][]string{
	"envelope":     {module + "/", "go.etcd.io/bbolt", "github.com/"},
	"ctrl/pattern": {module + "/", "go.etcd.io/bbolt"},
	"ctrl/ini":     {module + "/", "go.etcd.io/bbolt"},
	"ctrl/cescape": {module + "/", "go.etcd.io/bbolt"},
	"netutil":      {module + "/", "go.etcd.io/bbolt"},
	"ctrl":         {"/store", "/smtpd", "/pop3d", "/sendmail", "/route", "/admin", "/guard", "go.etcd.io/bbolt"},
	"store":        {"/ctrl", "/smtpd", "/pop3d", "/sendmail", "/route", "/admin", "/guard"},
	"route":        {"/ctrl", "/store", "/smtpd", "/pop3d", "/sendmail", "/admin", "/guard", "go.etcd.io/bbolt"},
	"smtpd":        {"/ctrl", "/store", "/pop3d", "/sendmail", "/route", "/admin", "/guard", "go.etcd.io/bbolt"},
	"pop3d":        {"/ctrl", "/store", "/smtpd", "/sendmail", "/route", "/admin", "/guard", "go.etcd.io/bbolt"},
	"sendmail":     {"/ctrl", "/store", "/smtpd", "/pop3d", "/route", "/admin", "/guard", "go.etcd.io/bbolt"},
	"dnsbl":        {"/ctrl", "/store", "/smtpd", "/pop3d", "/sendmail", "/route", "/admin", "/guard", "go.etcd.io/bbolt"},
	"guard":        {module + "/", "go.etcd.io/bbolt"},
	"ars":          {module + "/", "go.etcd.io/bbolt", "github.com/"},
	"mailproc":     {"/ctrl", "/store", "/smtpd", "/pop3d", "/sendmail", "/route", "/admin", "/guard", "go.etcd.io/bbolt"},
	"ftn":          {module + "/", "go.etcd.io/bbolt", "github.com/"},
	"qwk":          {module + "/", "go.etcd.io/bbolt", "github.com/"},
}

// allowedInside lists project packages a package may use although a broader
// rule above would forbid them.
var allowedInside = map[string][]string{
	"ctrl/ini":     {"/ctrl/cescape"},
	"ctrl/pattern": {"/ctrl/cescape"},
	"ctrl":         {"/ctrl/pattern", "/ctrl/ini", "/ctrl/cescape", "/envelope", "/ars"},
	"route":        {"/ctrl/pattern", "/ctrl/cescape", "/envelope"},
	"smtpd":        {"/ctrl/pattern", "/ctrl/cescape", "/envelope", "/dnsbl", "/netutil"},
	"pop3d":        {"/ctrl/pattern", "/ctrl/cescape", "/envelope", "/netutil"},
	"sendmail":     {"/ctrl/pattern", "/ctrl/cescape", "/envelope"},
	"guard":        {"/ctrl/pattern", "/ctrl/cescape", "/envelope"},
	"mailproc":     {"/ctrl/ini", "/ctrl/pattern", "/ctrl/cescape", "/envelope"},
	"qwk":          {"/ftn"},
}

func TestImportRules(t *testing.T) {
	for pkg, bad := range forbidden {
		out, err := exec.Command("go", "list", "-deps", "./"+pkg).Output()
		if err != nil {
			t.Errorf("go list -deps ./%s: %v", pkg, err)
			continue
		}
		for _, dep := range strings.Fields(string(out)) {
			if dep == module+"/"+pkg || isAllowed(pkg, dep) {
				continue
			}
			for _, b := range bad {
				full := b
				if strings.HasPrefix(b, "/") {
					full = module + b
				}
				if dep == full || strings.HasPrefix(dep, full+"/") || (strings.HasSuffix(full, "/") && strings.HasPrefix(dep, full)) {
					t.Errorf("%s depends on %s, which HACKING.md forbids", pkg, dep)
				}
			}
		}
	}
}

func isAllowed(pkg, dep string) bool {
	for _, a := range allowedInside[pkg] {
		if dep == module+a {
			return true
		}
	}
	return false
}

// TestRestrictedImports keeps two packages where they belong, present and
// future code included: the failed-login tracker out of every library (the
// servers declare the interfaces they need and the wiring injects it), and
// the shared test helpers out of the product.
func TestRestrictedImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-e", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	onlyFrom := map[string]string{ // package: the prefix of the packages that may import it ("" = tests only)
		module + "/guard":            module + "/cmd/",
		module + "/internal/testkit": "",
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		pkg := f[0]
		for _, dep := range f[1:] {
			prefix, restricted := onlyFrom[dep]
			if restricted && (prefix == "" || !strings.HasPrefix(pkg, prefix)) {
				t.Errorf("%s depends on %s, which HACKING.md reserves (for %q)", pkg, dep, prefix)
			}
		}
	}
}
