package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// `bbsmail check` loads everything `bbsmail serve` loads and fails the
// same way: a broken mailproc.ini (or the more specific variant serve
// would pick), an access requirement that cannot be read, a secret key
// the server refuses. Each case stops serve with a message; check must
// exit non-zero with the same message. A good mailproc.ini is reported.
func TestCheckLoadsWhatServeLoads(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		setup func(t *testing.T, b *bbs)
		want  string
	}{
		{"bad boolean", func(t *testing.T, b *bbs) {
			coreWrite(t, filepath.Join(b.ctrl, "mailproc.ini"), "[List]\n\tCommand = list.js\n\tPassThru = maybe\n")
		}, `mailproc.ini:3: [List] PassThru: invalid boolean "maybe"`},
		{"bad access requirements", func(t *testing.T, b *bbs) {
			coreWrite(t, filepath.Join(b.ctrl, "mailproc.ini"), "[Auth]\n\tCommand = auth.js\n\tAccessRequirements = LEVEL 50 AND (\n")
		}, `mailproc.ini:3: [Auth] AccessRequirements:`},
		{"bad pattern", func(t *testing.T, b *bbs) {
			coreWrite(t, filepath.Join(b.ctrl, "mailproc.ini"), "[List]\n\tTo = joe, 10.0.0.0/99\n")
		}, `mailproc.ini:2: [List] To: pattern:`},
		{"more specific file", func(t *testing.T, b *bbs) {
			coreWrite(t, filepath.Join(b.ctrl, "mailproc.ini"), "[Fine]\n\tCommand = fine.js\n")
			coreWrite(t, filepath.Join(b.ctrl, "mailproc.local.ini"), "[Local]\nNative = perhaps\n")
		}, `mailproc.local.ini:2: [Local] Native: invalid boolean "perhaps"`},
		{"secret key readable by others", func(t *testing.T, b *bbs) {
			key := filepath.Join(b.ctrl, "secret.key")
			if err := os.WriteFile(key, make([]byte, 32), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(key, 0o644); err != nil {
				t.Fatal(err)
			}
		}, `secret.key has mode 0644`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := newBBS(t)
			b.writeIni()
			c.setup(t, b)
			out, code := coreRunLimited(t, time.Minute, "serve", "-ctrl", b.ctrl)
			if code == 0 || !strings.Contains(out, c.want) {
				t.Fatalf("serve: exit %d, want non-zero and %q:\n%s", code, c.want, out)
			}
			out, code = coreRunLimited(t, time.Minute, "check", "-ctrl", b.ctrl)
			if code == 0 || !strings.Contains(out, c.want) {
				t.Fatalf("check: exit %d, want non-zero and %q, as serve said:\n%s", code, c.want, out)
			}
		})
	}

	b := newBBS(t)
	b.writeIni()
	coreWrite(t, filepath.Join(b.ctrl, "mailproc.ini"),
		"[Spam]\n\tNative = true\n\tCommand = spamc -f < %m > %n\n[List]\n\tCommand = listserver.js\n\tTo = listserver\n\tPassThru = false\n\tBogus = 1\n")
	out, code := coreRunLimited(t, time.Minute, "check", "-ctrl", b.ctrl)
	if code != 0 || !strings.Contains(out, "2 mail processors from "+filepath.Join(b.ctrl, "mailproc.ini")) ||
		!strings.Contains(out, "mailproc.ini:8: [List] Bogus: unknown key is ignored") {
		t.Fatalf("check with a good mailproc.ini: exit %d, want 0, the processors counted and the warning:\n%s", code, out)
	}
}
