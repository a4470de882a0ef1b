package mailproc

import (
	"bytes"
	"io"
	"strconv"
	"strings"

	"github.com/dop251/goja"
)

// The File methods for .ini files that list servers use on their
// configuration, subscriber lists and export pointers: iniGetValue,
// iniSetValue, iniGetSections, iniGetObject and iniGetAllObjects, with
// Synchronet's reading of values (true/false and numbers become booleans
// and numbers in objects; iniGetValue converts to the default's type).
// Section and key names are matched without regard to case; a null
// section is the part before the first section.

// iniLine is one line of an .ini file as far as these methods care.
type iniLine struct {
	section string // the section this line is in ("" before the first)
	key     string // "" for anything but key = value
	value   string
	header  string // the section name when this line starts a section
	text    string // the line as it was
}

// iniRead reads the whole file from its start.
func (f *jsFile) iniRead() ([]iniLine, bool) {
	if f.fh == nil {
		return nil, false
	}
	if _, err := f.fh.Seek(0, io.SeekStart); err != nil {
		f.setErr(err)
		return nil, false
	}
	f.rd = nil
	data, err := io.ReadAll(f.fh)
	if err != nil {
		f.setErr(err)
		return nil, false
	}
	var lines []iniLine
	sec := ""
	for _, raw := range strings.Split(strings.ReplaceAll(latin1(data), "\r\n", "\n"), "\n") {
		l := iniLine{section: sec, text: raw}
		t := strings.TrimSpace(raw)
		switch {
		case strings.HasPrefix(t, "[") && strings.Contains(t, "]"):
			sec = t[1:strings.Index(t, "]")]
			l.section, l.header = sec, sec
		case t == "" || t[0] == ';' || t[0] == '#' || t[0] == '!':
		default:
			if i := strings.IndexAny(t, "=:"); i > 0 {
				l.key, l.value = strings.TrimSpace(t[:i]), strings.TrimSpace(t[i+1:])
			}
		}
		lines = append(lines, l)
	}
	if n := len(lines); n > 0 && lines[n-1].text == "" {
		lines = lines[:n-1]
	}
	return lines, true
}

func sectionArg(v goja.Value) string {
	if goja.IsUndefined(v) || goja.IsNull(v) {
		return ""
	}
	return v.String()
}

// iniGetValue(section, key[, default]) answers the value, converted to
// the default's type, or the default when the key is absent.
func (f *jsFile) iniGetValue(call goja.FunctionCall) goja.Value {
	vm := f.h.vm
	sec, key, def := sectionArg(call.Argument(0)), call.Argument(1).String(), call.Argument(2)
	lines, _ := f.iniRead()
	for _, l := range lines {
		if l.key != "" && strings.EqualFold(l.section, sec) && strings.EqualFold(l.key, key) {
			switch def.Export().(type) {
			case bool:
				b, err := parseBool(l.value)
				if err != nil {
					return def
				}
				return vm.ToValue(b)
			case int64, float64:
				if n, err := strconv.ParseFloat(l.value, 64); err == nil {
					return vm.ToValue(n)
				}
				if n, err := strconv.ParseInt(l.value, 0, 64); err == nil {
					return vm.ToValue(n)
				}
				return def
			}
			return vm.ToValue(l.value)
		}
	}
	if goja.IsUndefined(def) {
		return goja.Undefined()
	}
	return def
}

// iniValue reads a value the way iniGetObject does.
func iniValue(s string) any {
	switch strings.ToLower(s) {
	case "true":
		return true
	case "false":
		return false
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil && s != "" && strings.Trim(s, "0123456789.-+") == "" {
		return n
	}
	return s
}

// iniGetSections() answers the section names.
func (f *jsFile) iniGetSections(goja.FunctionCall) goja.Value {
	lines, _ := f.iniRead()
	var out []any
	for _, l := range lines {
		if l.header != "" {
			out = append(out, l.header)
		}
	}
	return f.h.vm.NewArray(out...)
}

// iniObject builds the object of one section.
func (f *jsFile) iniObject(lines []iniLine, sec string) *goja.Object {
	o := f.h.vm.NewObject()
	for _, l := range lines {
		if l.key != "" && strings.EqualFold(l.section, sec) && o.Get(l.key) == nil {
			_ = o.Set(l.key, iniValue(l.value))
		}
	}
	return o
}

// iniGetObject([section]) answers the section's keys as an object.
func (f *jsFile) iniGetObject(call goja.FunctionCall) goja.Value {
	lines, ok := f.iniRead()
	if !ok {
		return goja.Null()
	}
	return f.iniObject(lines, sectionArg(call.Argument(0)))
}

// iniGetAllObjects([name_key]) answers one object per section, the
// section's name in name_key ("name").
func (f *jsFile) iniGetAllObjects(call goja.FunctionCall) goja.Value {
	nameKey := "name"
	if a := call.Argument(0); !goja.IsUndefined(a) && !goja.IsNull(a) {
		nameKey = a.String()
	}
	lines, _ := f.iniRead()
	var out []any
	for _, l := range lines {
		if l.header == "" {
			continue
		}
		o := f.iniObject(lines, l.header)
		_ = o.Set(nameKey, l.header)
		out = append(out, o)
	}
	return f.h.vm.NewArray(out...)
}

// iniSetValue(section, key, value) sets a key, adding it (and its
// section) when missing, and rewrites the file.
func (f *jsFile) iniSetValue(call goja.FunctionCall) goja.Value {
	// One line each: a line end in a value (a subscriber's address taken
	// from a message) must not add keys or sections to the file.
	sec, key := oneLine(sectionArg(call.Argument(0))), oneLine(call.Argument(1).String())
	val := oneLine(call.Argument(2).String())
	lines, ok := f.iniRead()
	if !ok {
		return f.h.vm.ToValue(false)
	}
	out, done, last := []string{}, false, -1
	for i, l := range lines {
		if !done && l.key != "" && strings.EqualFold(l.section, sec) && strings.EqualFold(l.key, key) {
			out = append(out, key+"="+val)
			done = true
			continue
		}
		if strings.EqualFold(l.section, sec) {
			last = i
		}
		out = append(out, l.text)
	}
	switch {
	case done:
	case last >= 0 || sec == "":
		at := last + 1
		out = append(out[:at], append([]string{key + "=" + val}, out[at:]...)...)
	default:
		out = append(out, "["+sec+"]", key+"="+val)
	}
	return f.h.vm.ToValue(f.rewrite([]byte(strings.Join(out, "\n") + "\n")))
}

// rewrite replaces the file's content.
func (f *jsFile) rewrite(data []byte) bool {
	if err := f.fh.Truncate(0); err != nil {
		f.setErr(err)
		return false
	}
	if _, err := f.fh.Seek(0, io.SeekStart); err != nil {
		f.setErr(err)
		return false
	}
	f.rd = nil
	_, err := io.Copy(f.fh, bytes.NewReader(fromJS(string(data))))
	if err != nil {
		f.setErr(err)
		return false
	}
	return true
}

// rewind() goes back to the start of the file.
func (f *jsFile) rewind(goja.FunctionCall) goja.Value {
	if f.fh == nil {
		return f.h.vm.ToValue(false)
	}
	_, err := f.fh.Seek(0, io.SeekStart)
	f.rd = nil
	return f.h.vm.ToValue(err == nil)
}

// setLength is `file.length = n`: the file is truncated or extended.
func (f *jsFile) setLength(n int64) {
	if f.fh == nil {
		return
	}
	if err := f.fh.Truncate(max(n, 0)); err != nil {
		f.setErr(err)
	}
}
