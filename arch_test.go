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
var forbidden = map[string][]string{
	"envelope":     {module + "/", "go.etcd.io/bbolt", "github.com/"},
	"ctrl/pattern": {module + "/", "go.etcd.io/bbolt"},
	"ctrl/ini":     {module + "/", "go.etcd.io/bbolt"},
	"ctrl/cescape": {module + "/", "go.etcd.io/bbolt"},
	"netutil":      {module + "/", "go.etcd.io/bbolt"},
	"ctrl":         {"/store", "/smtpd", "/pop3d", "/sendmail", "/route", "/admin", "go.etcd.io/bbolt"},
	"store":        {"/ctrl", "/smtpd", "/pop3d", "/sendmail", "/route", "/admin"},
	"route":        {"/ctrl", "/store", "/smtpd", "/pop3d", "/sendmail", "/admin", "go.etcd.io/bbolt"},
	"smtpd":        {"/ctrl", "/store", "/pop3d", "/sendmail", "/route", "/admin", "go.etcd.io/bbolt"},
	"pop3d":        {"/ctrl", "/store", "/smtpd", "/sendmail", "/route", "/admin", "go.etcd.io/bbolt"},
	"sendmail":     {"/ctrl", "/store", "/smtpd", "/pop3d", "/route", "/admin", "go.etcd.io/bbolt"},
	"dnsbl":        {"/ctrl", "/store", "/smtpd", "/pop3d", "/sendmail", "/route", "/admin", "go.etcd.io/bbolt"},
}

// allowedInside lists project packages a package may use although a broader
// rule above would forbid them.
var allowedInside = map[string][]string{
	"ctrl/ini":     {"/ctrl/cescape"},
	"ctrl/pattern": {"/ctrl/cescape"},
	"ctrl":         {"/ctrl/pattern", "/ctrl/ini", "/ctrl/cescape", "/envelope"},
	"route":        {"/ctrl/pattern", "/ctrl/cescape", "/envelope"},
	"smtpd":        {"/ctrl/pattern", "/ctrl/cescape", "/envelope", "/dnsbl", "/netutil"},
	"pop3d":        {"/ctrl/pattern", "/ctrl/cescape", "/envelope", "/netutil"},
	"sendmail":     {"/ctrl/pattern", "/ctrl/cescape", "/envelope"},
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
