package mailproc_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bbsmail/bbsmail/mailproc"
)

// A script reaches files only inside the BBS directories (ctrl, data,
// text, exec, mods, temp), and never the server's own secrets there: a
// path a script builds from what a client sent ("../../etc/passwd", an
// absolute path, a symlink planted to lead outside) opens, tests, removes
// and renames nothing outside. The control directory is read-only. What
// scripts normally do still works.
func TestJSFileSystemConfined(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	outside := filepath.Join(tr.root, "outside")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	victim := tr.write(t, "outside/victim.txt", "keep me\n")
	tr.write(t, "outside/evil.js", "var evil = true;\n")
	if err := os.MkdirAll(filepath.Join(tr.exec, "load"), 0o755); err != nil {
		t.Fatal(err)
	}
	tr.write(t, "data/keep.txt", "data file\n")
	tr.write(t, "data/bbsmail.db", "the mailbase\n")
	tr.write(t, "ctrl/secret.key", "0123456789abcdef0123456789abcdef")
	for link, target := range map[string]string{
		"data/out":            outside,
		"data/victim":         victim,
		"data/passwd":         "/etc/passwd",
		"exec/load/evil.js":   filepath.Join(outside, "evil.js"),
		"data/relative-out":   "../outside",
		"data/relative-inner": "keep.txt",
		"data/db-link":        "bbsmail.db",
	} {
		if err := os.Symlink(target, filepath.Join(tr.root, link)); err != nil {
			t.Fatal(err)
		}
	}
	script := strings.Join([]string{
		`var r = [], d = system.data_dir, c = system.ctrl_dir;`,
		`function opens(name, mode) { var f = new File(name); var ok = f.open(mode); if (ok) f.close(); return ok; }`,
		`function loads(name) { try { load(name); return true; } catch (e) { return false; } }`,
		`r.push("abs-read=" + opens("/etc/passwd", "r"));`,
		`r.push("dotdot-read=" + opens(d + "../outside/victim.txt", "r"));`,
		`r.push("dotdot-write=" + opens(d + "../../escaped.txt", "w"));`,
		`r.push("dotdot-deep=" + opens(d + "../../../../../../../../etc/passwd", "r"));`,
		`r.push("symlink-dir=" + opens(d + "out/new.txt", "w"));`,
		`r.push("symlink-file=" + opens(d + "victim", "a"));`,
		`r.push("symlink-etc=" + opens(d + "passwd", "r"));`,
		`r.push("symlink-relative=" + opens(d + "relative-out/victim.txt", "r"));`,
		`r.push("exists-outside=" + file_exists("` + victim + `"));`,
		`r.push("prop-exists-outside=" + new File("` + victim + `").exists);`,
		`r.push("length-outside=" + new File("` + victim + `").length);`,
		`r.push("remove-outside=" + file_remove(d + "../outside/victim.txt"));`,
		`r.push("remove-obj-outside=" + new File(d + "../outside/victim.txt").remove());`,
		`r.push("rename-out=" + file_rename(d + "keep.txt", d + "../outside/stolen.txt"));`,
		`r.push("rename-in=" + file_rename(d + "../outside/victim.txt", d + "taken.txt"));`,
		`r.push("load-symlink=" + loads("evil.js"));`,
		`r.push("mailbase-read=" + opens(d + "bbsmail.db", "r"));`,
		`r.push("mailbase-remove=" + file_remove(d + "bbsmail.db"));`,
		`r.push("mailbase-symlink=" + opens(d + "db-link", "w"));`,
		`r.push("mailbase-hardlink=" + opens(d + "db-hardlink", "r"));`,
		`r.push("mailbase-rename-onto=" + file_rename(d + "keep.txt", d + "bbsmail.db"));`,
		`r.push("key-read=" + opens(c + "secret.key", "r"));`,
		`r.push("key-dotdot=" + opens(d + "../ctrl/secret.key", "r"));`,
		`r.push("ctrl-write=" + opens(c + "mailproc.ini", "a"));`,
		`r.push("ctrl-read=" + opens(c + "mailproc.ini", "r"));`,
		`r.push("data-write=" + opens(d + "new.txt", "w"));`,
		`r.push("data-inner-symlink=" + opens(d + "relative-inner", "r"));`,
		`r.push("data-rename=" + file_rename(d + "new.txt", d + "renamed.txt"));`,
		`r.push("data-exists=" + file_exists(d + "renamed.txt"));`,
		`r.push("data-remove=" + file_remove(d + "renamed.txt"));`,
		`r.push("temp-read=" + opens(message_text_filename, "r"));`,
		`var out = new File(d + "report.txt"); out.open("w"); out.write(r.join("\n") + "\n"); out.close();`,
	}, " ")
	if err := os.Link(filepath.Join(tr.data, "bbsmail.db"), filepath.Join(tr.data, "db-hardlink")); err != nil {
		t.Fatal(err)
	}
	s := tr.load(t, "[Reach]\nEval = "+script+"\n", func(c *mailproc.Config) {
		c.Private = []string{filepath.Join(tr.data, "bbsmail.db"), filepath.Join(tr.ctrl, "secret.key")}
	})
	out := run(t, s, input(user1))
	if len(out.Failed) != 0 {
		t.Fatalf("failures %+v\n%s", out.Failed, tr.log.String())
	}
	report, err := os.ReadFile(filepath.Join(tr.data, "report.txt"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(report)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		got[k] = v
	}
	for k, want := range map[string]string{
		"abs-read": "false", "dotdot-read": "false", "dotdot-write": "false", "dotdot-deep": "false",
		"symlink-dir": "false", "symlink-file": "false", "symlink-etc": "false", "symlink-relative": "false",
		"exists-outside": "false", "prop-exists-outside": "false", "length-outside": "-1",
		"remove-outside": "false", "remove-obj-outside": "false", "rename-out": "false", "rename-in": "false",
		"load-symlink": "false", "mailbase-read": "false", "mailbase-remove": "false",
		"mailbase-symlink": "false", "mailbase-hardlink": "false", "mailbase-rename-onto": "false",
		"key-read": "false", "key-dotdot": "false", "ctrl-write": "false",
		"ctrl-read": "true", "data-write": "true", "data-inner-symlink": "true", "data-rename": "true",
		"data-exists": "true", "data-remove": "true", "temp-read": "true",
	} {
		if got[k] != want {
			t.Errorf("%s = %q, want %s", k, got[k], want)
		}
	}
	if b, err := os.ReadFile(victim); err != nil || string(b) != "keep me\n" {
		t.Errorf("the file outside was changed: %q, %v", b, err)
	}
	for _, p := range []string{filepath.Join(outside, "new.txt"), filepath.Join(outside, "stolen.txt"), filepath.Join(filepath.Dir(tr.root), "escaped.txt")} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("a script created %s", p)
		}
	}
	if b, err := os.ReadFile(filepath.Join(tr.data, "bbsmail.db")); err != nil || string(b) != "the mailbase\n" {
		t.Errorf("the mailbase was changed: %q, %v", b, err)
	}
}

// A specifier is one argv element of a JavaScript processor, whatever its
// value holds: a sender name with spaces cannot push an argument of its
// choosing into the place of the sysop's next one (here a directory the
// script trusts).
func TestJSArgvOneWordPerSpecifier(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	tr.write(t, "exec/args.js", `var o = new File(system.data_dir + "argv.txt"); o.open("w"); o.write(argc + "\n" + argv.join("\n") + "\n"); o.close();`)
	s := tr.load(t, "[Args]\nCommand=args %s %jlists/ x%ay\n", nil)
	in := input(user1)
	in.SenderName = "Joe  Sender " + tr.ctrl + "/"
	in.SenderAddr = "a b@example.org"
	out := run(t, s, in)
	if len(out.Failed) != 0 {
		t.Fatalf("failures %+v\n%s", out.Failed, tr.log.String())
	}
	got, err := os.ReadFile(filepath.Join(tr.data, "argv.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := "3\nJoe  Sender " + tr.ctrl + "/\n" + tr.data + "/lists/\nxa b@example.orgy\n"
	if string(got) != want {
		t.Fatalf("argv\n got %q\nwant %q", got, want)
	}
}

// system.spamlog writes the server's spam.log (where Config.SpamLog
// says), in its format, and client text a script hands it cannot forge
// an entry with a line end.
func TestJSSpamLogEscapes(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	// main.ini's logs directory defaults to data/; any name proves the
	// configured path is the one written.
	logPath := filepath.Join(tr.data, "logs-spam.log")
	script := `system.spamlog("SMTP", "REJECTED", "spamc said so", "h.example", "192.0.2.7", "bob", "x@y\r\n\r\nSUSPECTED SMTP SPAM FORGED on now");`
	s := tr.load(t, "[Log]\nEval = "+script+"\n", func(c *mailproc.Config) { c.SpamLog = logPath })
	if out := run(t, s, input(user1)); len(out.Failed) != 0 {
		t.Fatalf("failures %+v\n%s", out.Failed, tr.log.String())
	}
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	log := string(b)
	if !strings.HasPrefix(log, "SUSPECTED SMTP SPAM REJECTED on ") || !strings.Contains(log, "\r\nHost: h.example [192.0.2.7]\r\n") ||
		!strings.HasSuffix(log, "\r\nReason: spamc said so\r\n\r\n") {
		t.Errorf("entry not in the server's format:\n%q", log)
	}
	if n := strings.Count(log, "SUSPECTED"); n != 2 || strings.Count(log, "\r\n") != 5 {
		t.Errorf("client text forged lines:\n%q", log)
	}
}

// Text from a message cannot stretch a script's file: iniSetValue keeps
// a value with line ends on its one line, and format() bounds a width
// that comes from an argument.
func TestJSBoundsClientText(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	script := strings.Join([]string{
		`var f = new File(system.data_dir + "subs.ini"); f.open("w+");`,
		`f.iniSetValue("list", "bob@example.org", "yes\r\n[evil]\r\nowner=mallory");`,
		`var w = format("%*d", 1e12, 1).length;`,
		`f.iniSetValue("list", "width", String(w)); f.close();`,
	}, " ")
	s := tr.load(t, "[Bound]\nEval = "+script+"\n", nil)
	if out := run(t, s, input(user1)); len(out.Failed) != 0 {
		t.Fatalf("failures %+v\n%s", out.Failed, tr.log.String())
	}
	b, err := os.ReadFile(filepath.Join(tr.data, "subs.ini"))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); strings.Contains(got, "\n[evil]") || strings.Contains(got, "\nowner=") ||
		!strings.Contains(got, "bob@example.org=yes [evil] owner=mallory\n") || !strings.Contains(got, "width=65536\n") {
		t.Errorf("subs.ini:\n%s", got)
	}
}
