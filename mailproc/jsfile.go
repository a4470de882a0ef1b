package mailproc

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// defaultReadln is Synchronet's File.readln default maximum: longer lines
// come back in pieces, and scripts written for it expect that.
const defaultReadln = 512

// jsFile is one File object: Synchronet's class reduced to what mail
// processors use on the temporary files (see docs/mailproc-ini.md).
//
// Bytes are exchanged with scripts as Latin-1: each byte is one character
// (0-255) and a character up to 255 is written back as that byte, so 8-bit
// mail passes through a script unchanged, as it does in Synchronet. A
// character above 255 (from the script's own text) is written as UTF-8.
type jsFile struct {
	h     *jsHost
	name  string
	fh    *os.File
	rd    *bufio.Reader
	errno int
}

// fileConstructor is `new File(name)`. Nothing is opened until open().
func (h *jsHost) fileConstructor(call goja.ConstructorCall) *goja.Object {
	f := &jsFile{h: h, name: call.Argument(0).String()}
	o := call.This
	for k, fn := range map[string]func(goja.FunctionCall) goja.Value{
		"open": f.open, "close": f.closeJS, "read": f.read, "readln": f.readln, "readAll": f.readAll,
		"write": f.write, "writeln": f.writeln, "writeAll": f.writeAll, "remove": f.remove,
		"rewind": f.rewind, "iniGetValue": f.iniGetValue, "iniSetValue": f.iniSetValue,
		"iniGetSections": f.iniGetSections, "iniGetObject": f.iniGetObject, "iniGetAllObjects": f.iniGetAllObjects,
	} {
		_ = o.Set(k, fn) // Set on a fresh ordinary object cannot fail
	}
	for k, get := range map[string]func() any{
		"name":    func() any { return f.name },
		"is_open": func() any { return f.fh != nil },
		"eof":     f.eof,
		"exists":  func() any { _, err := h.fs.stat(f.name); return err == nil },
		"error":   func() any { return f.errno },
	} {
		getter := h.vm.ToValue(func(goja.FunctionCall) goja.Value { return h.vm.ToValue(get()) })
		_ = o.DefineAccessorProperty(k, getter, nil, goja.FLAG_FALSE, goja.FLAG_TRUE)
	}
	getLen := h.vm.ToValue(func(goja.FunctionCall) goja.Value { return h.vm.ToValue(f.length()) })
	setLen := h.vm.ToValue(func(c goja.FunctionCall) goja.Value {
		f.setLength(c.Argument(0).ToInteger())
		return goja.Undefined()
	})
	_ = o.DefineAccessorProperty("length", getLen, setLen, goja.FLAG_FALSE, goja.FLAG_TRUE)
	return nil // the constructed object is call.This
}

// open([mode]) opens the file; the mode is fopen's (default "w+"), with
// 'b', 't' and 'e' ignored. It answers true or false.
func (f *jsFile) open(call goja.FunctionCall) goja.Value {
	if f.fh != nil {
		return f.h.vm.ToValue(false)
	}
	mode := "w+"
	if a := call.Argument(0); !goja.IsUndefined(a) {
		mode = a.String()
	}
	flags, ok := openFlags(mode)
	if !ok {
		f.errno = int(syscall.EINVAL)
		return f.h.vm.ToValue(false)
	}
	// Files in the temporary directory hold mail: keep them private.
	perm := os.FileMode(0o644)
	if t := f.h.set.cfg.TempDir; t != "" && under(absPath(f.name), []string{absPath(t)}) {
		perm = 0o600
	}
	fh, err := f.h.fs.openFile(f.name, flags, perm)
	if err != nil {
		f.setErr(err)
		return f.h.vm.ToValue(false)
	}
	f.fh, f.rd, f.errno = fh, nil, 0
	f.h.files = append(f.h.files, f)
	return f.h.vm.ToValue(true)
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// openFlags maps an fopen mode onto open(2) flags.
func openFlags(mode string) (int, bool) {
	m := strings.Map(func(r rune) rune {
		if strings.ContainsRune("bte", r) {
			return -1
		}
		return r
	}, mode)
	switch m {
	case "r":
		return os.O_RDONLY, true
	case "r+":
		return os.O_RDWR, true
	case "w":
		return os.O_WRONLY | os.O_CREATE | os.O_TRUNC, true
	case "w+":
		return os.O_RDWR | os.O_CREATE | os.O_TRUNC, true
	case "a":
		return os.O_WRONLY | os.O_CREATE | os.O_APPEND, true
	case "a+":
		return os.O_RDWR | os.O_CREATE | os.O_APPEND, true
	}
	return 0, false
}

func (f *jsFile) setErr(err error) {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		f.errno = int(errno)
	} else {
		f.errno = -1
	}
}

func (f *jsFile) close() {
	if f.fh != nil {
		_ = f.fh.Close()
		f.fh, f.rd = nil, nil
	}
}

func (f *jsFile) closeJS(goja.FunctionCall) goja.Value {
	f.close()
	return goja.Undefined()
}

func (f *jsFile) reader() *bufio.Reader {
	if f.rd == nil {
		f.rd = bufio.NewReader(f.fh)
	}
	return f.rd
}

// read([maxlen]) returns up to maxlen bytes, or the rest of the file; null
// when the file is not open.
func (f *jsFile) read(call goja.FunctionCall) goja.Value {
	if f.fh == nil {
		return goja.Null()
	}
	var r io.Reader = f.reader()
	if a := call.Argument(0); !goja.IsUndefined(a) {
		r = io.LimitReader(r, max(a.ToInteger(), 0))
	}
	data, err := io.ReadAll(r)
	if err != nil {
		f.setErr(err)
	}
	return f.h.vm.ToValue(latin1(data))
}

// readln([maxlen]) returns the next line without its line end, at most
// maxlen (default 512) bytes of it; null at the end of the file.
func (f *jsFile) readln(call goja.FunctionCall) goja.Value {
	if f.fh == nil {
		return goja.Null()
	}
	limit := int64(defaultReadln)
	if a := call.Argument(0); !goja.IsUndefined(a) {
		limit = max(a.ToInteger(), 1)
	}
	line, ok := f.line(limit)
	if !ok {
		return goja.Null()
	}
	return f.h.vm.ToValue(latin1(line))
}

// line reads like fgets: up to limit bytes, stopping after a newline.
func (f *jsFile) line(limit int64) ([]byte, bool) {
	rd := f.reader()
	var buf []byte
	for int64(len(buf)) < limit {
		c, err := rd.ReadByte()
		if err != nil {
			if len(buf) == 0 {
				return nil, false
			}
			break
		}
		buf = append(buf, c)
		if c == '\n' {
			break
		}
	}
	for len(buf) > 0 && (buf[len(buf)-1] == '\n' || buf[len(buf)-1] == '\r') {
		buf = buf[:len(buf)-1]
	}
	return buf, true
}

// readAll([maxlen]) returns the remaining lines as an array.
func (f *jsFile) readAll(call goja.FunctionCall) goja.Value {
	var lines []any
	if f.fh != nil {
		limit := int64(defaultReadln)
		if a := call.Argument(0); !goja.IsUndefined(a) {
			limit = max(a.ToInteger(), 1)
		}
		for {
			line, ok := f.line(limit)
			if !ok {
				break
			}
			lines = append(lines, latin1(line))
		}
	}
	return f.h.vm.NewArray(lines...)
}

// put writes bytes at the current position; bytes read ahead into the
// buffer are given back first so that writing follows what was read.
func (f *jsFile) put(data []byte) bool {
	if f.fh == nil {
		return false
	}
	if f.rd != nil {
		if n := f.rd.Buffered(); n > 0 {
			if _, err := f.fh.Seek(int64(-n), io.SeekCurrent); err != nil {
				f.setErr(err)
				return false
			}
		}
		f.rd = nil
	}
	if _, err := f.fh.Write(data); err != nil {
		f.setErr(err)
		return false
	}
	return true
}

func (f *jsFile) write(call goja.FunctionCall) goja.Value {
	return f.h.vm.ToValue(f.put(fromJS(call.Argument(0).String())))
}

// writeln([text]) writes text and a newline ("\n", as Synchronet does on
// Unix; Run turns bare newlines of a new message text into CRLF).
func (f *jsFile) writeln(call goja.FunctionCall) goja.Value {
	text := ""
	if a := call.Argument(0); !goja.IsUndefined(a) {
		text = a.String()
	}
	return f.h.vm.ToValue(f.put(append(fromJS(text), '\n')))
}

// writeAll(lines) writes each element of an array as a line.
func (f *jsFile) writeAll(call goja.FunctionCall) goja.Value {
	arr := call.Argument(0)
	if goja.IsUndefined(arr) || goja.IsNull(arr) {
		return f.h.vm.ToValue(false)
	}
	o := arr.ToObject(f.h.vm)
	n := o.Get("length").ToInteger()
	for i := int64(0); i < n; i++ {
		if !f.put(append(fromJS(o.Get(strconv.FormatInt(i, 10)).String()), '\n')) {
			return f.h.vm.ToValue(false)
		}
	}
	return f.h.vm.ToValue(true)
}

// remove() closes and deletes the file.
func (f *jsFile) remove(goja.FunctionCall) goja.Value {
	f.close()
	if err := f.h.fs.remove(f.name); err != nil {
		f.setErr(err)
		return f.h.vm.ToValue(false)
	}
	return f.h.vm.ToValue(true)
}

func (f *jsFile) eof() any {
	if f.fh == nil {
		return true
	}
	_, err := f.reader().Peek(1)
	return err != nil
}

// length is the file's size in bytes, -1 when it cannot be read.
func (f *jsFile) length() any {
	var fi os.FileInfo
	var err error
	if f.fh != nil {
		fi, err = f.fh.Stat()
	} else {
		fi, err = f.h.fs.stat(f.name)
	}
	if err != nil {
		return int64(-1)
	}
	return fi.Size()
}

// latin1 makes each byte one character.
func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// fromJS writes characters up to 255 as single bytes and others as UTF-8.
func fromJS(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r <= 0xff {
			out = append(out, byte(r))
		} else {
			out = utf8.AppendRune(out, r)
		}
	}
	return out
}
