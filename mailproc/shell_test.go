package mailproc_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// clientSpecifiers are the specifiers whose values come from the network.
const clientSpecifiers = "%s %a %r %t %h %i"

// shellForms are native command lines that hand the specifiers to a second
// (or third) shell, which re-reads whatever the first one passed on. need
// names a program the form needs; root marks forms that only work as root.
var shellForms = []struct {
	name, cmd, need string
	root            bool
}{
	{"plain", "echo " + clientSpecifiers + " >/dev/null", "", false},
	{"sh -c single", "sh -c 'echo " + clientSpecifiers + " >/dev/null'", "", false},
	{"sh -c double", `sh -c "echo ` + clientSpecifiers + ` >/dev/null"`, "", false},
	{"bash -c single", "bash -c 'echo " + clientSpecifiers + " >/dev/null'", "bash", false},
	{"bash -c double", `bash -c "echo ` + clientSpecifiers + ` >/dev/null"`, "bash", false},
	{"eval bare", "eval echo " + clientSpecifiers + " '>/dev/null'", "", false},
	{"eval double", `eval "echo ` + clientSpecifiers + `" >/dev/null`, "", false},
	{"eval single", `eval 'echo ` + clientSpecifiers + `' >/dev/null`, "", false},
	{"env sh -c", "env X=1 sh -c 'echo " + clientSpecifiers + " >/dev/null'", "", false},
	{"sh -c inside sh -c", `sh -c "sh -c 'echo ` + clientSpecifiers + ` >/dev/null'"`, "", false},
	{"$(...)", `echo "$(echo ` + clientSpecifiers + `)" >/dev/null`, "", false},
	{"backquotes", "echo \"`echo " + clientSpecifiers + "`\" >/dev/null", "", false},
	{"${...}", "echo ${X:-" + clientSpecifiers + "} >/dev/null", "", false},
	{"pipe to sh", "echo 'echo " + clientSpecifiers + "' | sh >/dev/null", "", false},
	{"su -c", "su root -c 'echo " + clientSpecifiers + " >/dev/null' </dev/null", "su", true},
	{"su -s sh -c double", `su -s /bin/sh root -c "echo ` + clientSpecifiers + ` >/dev/null" </dev/null`, "su", true},
}

// injectionPayloads are values a client might send (as a sender name,
// address, reverse path, recipient or host name), each trying to create
// the marker file m.
func injectionPayloads(m string) []string {
	return []string{
		"x;touch " + m, "x|touch " + m, "x&touch " + m, "x&&touch " + m, "x||touch " + m,
		"$(touch " + m + ")", "`touch " + m + "`", "x;touch${IFS}" + m,
		"'$(touch " + m + ")'", `"$(touch ` + m + `)"`, "x';touch " + m + ";'", `x";touch ` + m + `;"`,
		`x\';touch ` + m + ";#", `x\";touch ` + m + ";#", `\';touch ` + m + `;\'`,
		"x\ntouch " + m, "x\r\ntouch " + m, "x\\\ntouch " + m,
		"x>" + m, "x >" + m, ">>" + m, "x 1>" + m, "x<" + m,
		"<(touch " + m + ")", ">(touch " + m + ")", "$((1))$(touch " + m + ")",
		"x;touch " + m + " #@evil.example", "<x;touch " + m + " #@evil.example>",
		"{touch," + m + "}", "x\x00;touch " + m, "x\xc0;touch " + m, "x\u00a0;touch " + m,
		"-x;touch " + m, "~;touch " + m, "*;touch " + m,
	}
}

// No value from the network can run a command through a native
// processor's command line, however many shells the sysop's command
// nests (sh -c, bash -c, eval, su -c, env sh -c): each payload tries to
// create a marker file from every client-controlled specifier at once.
func TestNativeNestedShellNoInjection(t *testing.T) {
	t.Parallel()
	for _, form := range shellForms {
		t.Run(form.name, func(t *testing.T) {
			t.Parallel()
			if form.need != "" {
				if _, err := exec.LookPath(form.need); err != nil {
					t.Skipf("%s is not installed: %v", form.need, err)
				}
			}
			if form.root && os.Geteuid() != 0 {
				t.Skip("su -c to root needs root (it would ask for a password)")
			}
			tr := newTree(t)
			s := tr.load(t, "[Nested]\nNative=true\nCommand="+form.cmd+"\n", nil)
			marker := filepath.Join(tr.data, "pwned")
			for _, p := range injectionPayloads(marker) {
				in := input(user1)
				in.Env.ReversePath, in.Env.ClientHost, in.Env.ClientIP, in.Env.Helo = p, p, p, p
				in.SenderName, in.SenderAddr, in.LastRcpt = p, p, p
				out := run(t, s, in)
				if _, err := os.Stat(marker); err == nil {
					t.Fatalf("payload %q ran a command through %s", p, form.cmd)
				}
				if len(out.Failed) != 0 {
					t.Errorf("payload %q broke the command line %s: %v", p, form.cmd, out.Failed)
				}
			}
			tr.noTempFiles(t)
		})
	}
}

// The exact values, which the command line only carries in a reduced
// form, reach a native processor through its environment.
func TestNativeEnvironmentValues(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	s := tr.load(t, "[Env]\nNative=true\nCommand=env > %jenv.out\n", nil)
	in := input(user1)
	in.SenderName = "Joe 'Quote' $(Sender)"
	in.SenderAddr = "joe;x@example.org"
	in.Env.ReversePath = "bounce|me@example.org"
	in.LastRcpt = "list@bbs.example.org"
	in.Env.Helo = "helo `name`"
	in.Env.ClientHost = "<no name>"
	run(t, s, in)
	got, err := os.ReadFile(filepath.Join(tr.data, "env.out"))
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for _, want := range []string{
		"MAILPROC_SENDER_NAME=Joe 'Quote' $(Sender)\n", "MAILPROC_SENDER_ADDRESS=joe;x@example.org\n",
		"MAILPROC_REVERSE_PATH=<bounce|me@example.org>\n", "MAILPROC_RECIPIENT_ADDRESS=list@bbs.example.org\n",
		"MAILPROC_HELLO_NAME=helo `name`\n", "MAILPROC_HOST_NAME=<no name>\n", "MAILPROC_IP_ADDRESS=192.0.2.7\n",
		"SBBSCTRL=" + tr.ctrl + "/\n",
	} {
		if !strings.Contains(string(got), want) {
			missing = append(missing, want)
		}
	}
	if len(missing) > 0 {
		t.Errorf("environment lacks %q:\n%s", missing, got)
	}
}
