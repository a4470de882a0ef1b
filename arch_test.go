package bbsmail_test

import (
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/bbsmail/bbsmail"

// allowed is HACKING.md's package table as code: for every package of the
// module, the imports outside the standard library it may use directly
// (project packages by their path inside the module, other modules by their
// full path). A package missing from this table fails the test, so a new
// package is placed in the layering on purpose, not by accident.
//
// The rules it encodes: dependencies point down; protocol packages (smtpd,
// pop3d, sendmail) never import each other, the store or the configuration
// loader; only store touches bbolt; only mailproc runs JavaScript; guard is
// wiring's business (only cmd/bbsmail imports it); the test kit stays out of
// the product. "*" (cmd/bbsmail only) allows any package of the module.
var allowed = map[string][]string{
	"":             {}, // the module root holds only this test
	"envelope":     {},
	"ars":          {},
	"netutil":      {"envelope"},
	"ctrl/cescape": {},
	"ctrl/ini":     {"ctrl/cescape"},
	"ctrl/pattern": {"ctrl/cescape"},
	"ctrl":         {"ars", "ctrl/ini", "ctrl/pattern", "envelope"},
	"dnsbl":        {"github.com/miekg/dns"},
	"mailauth": {"blitiri.com.ar/go/spf", "github.com/emersion/go-msgauth/authres", "github.com/emersion/go-msgauth/dkim",
		"github.com/emersion/go-msgauth/dmarc", "golang.org/x/net/publicsuffix"},
	"store":            {"envelope", "go.etcd.io/bbolt", "go.etcd.io/bbolt/errors", "golang.org/x/crypto/argon2"},
	"route":            {"ctrl/pattern", "envelope"},
	"access":           {"ars", "envelope", "route"},
	"guard":            {"ctrl/pattern", "envelope"},
	"mailproc":         {"ctrl/ini", "ctrl/pattern", "envelope", "github.com/dlclark/regexp2/v2", "github.com/dop251/goja"},
	"smtpd":            {"ctrl/pattern", "dnsbl", "envelope", "netutil", "github.com/emersion/go-sasl"},
	"pop3d":            {"ctrl/pattern", "envelope", "netutil"},
	"sendmail":         {"ctrl/pattern", "envelope", "github.com/emersion/go-sasl", "github.com/miekg/dns"},
	"ftn":              {},
	"qwk":              {"ftn"},
	"admin":            {"envelope", "ftn", "store"},
	"internal/testkit": {"envelope", "github.com/miekg/dns"},
	"cmd/bbsmail":      {"*"},
	"cmd/bbsbench":     {"mailauth", "github.com/miekg/dns", "golang.org/x/crypto/argon2"},
	"test":             {}, // system tests only: everything lives in its _test files
}

// onlyFrom names packages that may be imported only by packages under a
// prefix ("" = by tests only); it covers test imports too.
var onlyFrom = map[string]string{
	"guard":            "cmd/",
	"internal/testkit": "",
}

type listed struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

func listPackages(t *testing.T) []listed {
	t.Helper()
	out, err := exec.Command("go", "list", "-e", "-json=ImportPath,Imports,TestImports,XTestImports", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []listed
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p listed
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

// inModule returns the path of imp inside the module, or imp itself for
// another module; ok is false for the standard library.
func inModule(imp string) (rel string, ok bool) {
	if imp == module {
		return "", true
	}
	if r, found := strings.CutPrefix(imp, module+"/"); found {
		return r, true
	}
	first, _, _ := strings.Cut(imp, "/")
	return imp, strings.Contains(first, ".")
}

func TestImportRules(t *testing.T) {
	for _, p := range listPackages(t) {
		pkg, _ := inModule(p.ImportPath)
		allow, known := allowed[pkg]
		if !known {
			t.Errorf("package %q is not in arch_test.go's table: add it there and to HACKING.md with the imports it may use", pkg)
			continue
		}
		for _, imp := range p.Imports {
			dep, nonStd := inModule(imp)
			if !nonStd || slices.Contains(allow, dep) {
				continue
			}
			if slices.Contains(allow, "*") && strings.HasPrefix(imp, module) {
				continue
			}
			t.Errorf("%s imports %s, which HACKING.md does not allow it", pkg, dep)
		}
	}
}

// TestRestrictedImports keeps two packages where they belong, test code
// included: the failed-login tracker out of every library (the servers
// declare the interfaces they need and the wiring injects it), and the shared
// test helpers out of the product.
func TestRestrictedImports(t *testing.T) {
	for _, p := range listPackages(t) {
		pkg, _ := inModule(p.ImportPath)
		check := func(imports []string, test bool) {
			for _, imp := range imports {
				dep, _ := inModule(imp)
				prefix, restricted := onlyFrom[dep]
				if !restricted || dep == pkg || (test && prefix == "") || (prefix != "" && strings.HasPrefix(pkg, prefix)) {
					continue
				}
				t.Errorf("%s imports %s, which HACKING.md reserves (for %q)", pkg, dep, prefix)
			}
		}
		check(p.Imports, false)
		check(p.TestImports, true)
		check(p.XTestImports, true)
	}
}
