package ini_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bbsmail/bbsmail/ctrl/ini"
)

func parse(t *testing.T, s string) *ini.File {
	t.Helper()
	f, err := ini.Parse(strings.NewReader(s), "test.ini")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestQuirks(t *testing.T) {
	t.Parallel()
	f := parse(t, "\ufeffroot=1\r\n[Mail]\tSMTP(S)/POP3(S) Mail Server\r\n"+
		"\tMaxClients = 10\r\n  maxclients = 99\r\n; Password = no\r\n\tPassword = abc;123\r\n"+
		"\tEmpty =\r\n\tLit : \"a\\tb\"\r\n[mail]\n\tLate = 1\n")
	tests := []struct {
		sect, key, want string
		line            int
	}{
		{"", "root", "1", 1},               // BOM before the first key
		{"MAIL", "MAXCLIENTS", "10", 3},    // case-insensitive, first duplicate wins
		{"Mail", "Password", "abc;123", 6}, // ';' inside a value is kept
		{"Mail", "Empty", "", 7},           // empty value
		{"Mail", "Lit", "a\tb", 8},         // literal form: quotes and escapes
	}
	for _, tt := range tests {
		s := f.Root()
		if tt.sect != "" {
			s = f.Section(tt.sect)
		}
		k, ok := s.Get(tt.key)
		if !ok || k.Value != tt.want || k.Line != tt.line {
			t.Errorf("[%s] %s = %q line %d (found %v), want %q line %d", tt.sect, tt.key, k.Value, k.Line, ok, tt.want, tt.line)
		}
	}
	if _, ok := f.Section("Mail").Get("Late"); ok {
		t.Error("a key of a duplicate section was read; Synchronet reads only the first")
	}
	if f.Section("Mail").Name != "Mail" {
		t.Errorf("section name %q: the description after ']' leaked in", f.Section("Mail").Name)
	}
}

func TestAlternativeSectionNames(t *testing.T) {
	t.Parallel()
	f := parse(t, "[Mail|SMTP]\nA=1\n")
	if f.Section("smtp").Value("a") != "1" || f.Section("mail").Value("a") != "1" {
		t.Error("[Mail|SMTP] does not answer to both names")
	}
}

func TestIncludeAndEOF(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("main.ini", "[Mail]\nA=1\n!include extra.ini\nC=3\n!eof\nD=4\n")
	write("extra.ini", "B=2\n!EOF\nIgnored=1\n")
	f, err := ini.ParseFile(filepath.Join(dir, "main.ini"))
	if err != nil {
		t.Fatal(err)
	}
	m := f.Section("Mail")
	b, _ := m.Get("B")
	if m.Value("A") != "1" || b.Value != "2" || m.Value("C") != "3" {
		t.Errorf("include: A=%q B=%q C=%q", m.Value("A"), b.Value, m.Value("C"))
	}
	if filepath.Base(b.File) != "extra.ini" || b.Line != 1 {
		t.Errorf("included key reported at %s:%d, want extra.ini:1", b.File, b.Line)
	}
	if _, ok := m.Get("Ignored"); ok {
		t.Error("!eof in the included file did not stop it")
	}
	if _, ok := m.Get("D"); ok {
		t.Error("!eof did not stop the main file")
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"[Mail\n", "[]\n", "!include\n", "!bogus x\n"} {
		_, err := ini.Parse(strings.NewReader(in), "x.ini")
		var se *ini.SyntaxError
		if !errors.As(err, &se) || se.Line != 1 {
			t.Errorf("Parse(%q) = %v, want a SyntaxError on line 1", in, err)
		}
	}
	_, err := ini.ParseFile(filepath.Join(t.TempDir(), "none.ini"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestJunkLinesAreKept(t *testing.T) {
	t.Parallel()
	f := parse(t, "[Mail]\nMaxClients 100\n")
	j := f.Section("Mail").Junk
	if len(j) != 1 || j[0].Line != 2 || j[0].Value != "MaxClients 100" {
		t.Errorf("junk = %+v", j)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("[Mail]\tdesc\nA = 1\n; c\nB : \"x\\n\"\n!eof\n")
	f.Add("\ufeffk=v\r\n[a|b]\r\nx\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		file, err := ini.Parse(strings.NewReader(s), "fuzz.ini")
		if err != nil {
			return
		}
		for _, sec := range file.Sections {
			for _, k := range sec.Keys {
				if k.Line < 1 || k.Name == "" {
					t.Fatalf("key %+v has no line or name", k)
				}
			}
		}
	})
}
