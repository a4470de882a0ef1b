package mailproc

import (
	"context"
	"encoding/base64"
	"fmt"
	"github.com/bbsmail/bbsmail/envelope"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bbsmail/bbsmail/ctrl/pattern"
	"github.com/dop251/goja"
)

// resolveTimeout bounds one resolve_ip() lookup.
const resolveTimeout = 10 * time.Second

// installHost defines the Synchronet objects and functions beyond the
// file contract: user, client, server, the rest of system, format,
// resolve_ip, time and the file_* helpers (docs/mailproc-ini.md lists
// them).
func (h *jsHost) installHost(in *Input) error {
	vm := h.vm
	funcs := map[string]func(goja.FunctionCall) goja.Value{
		"format": h.format, "printf": h.printf, "resolve_ip": h.resolveIP,
		"time": h.timeNow, "strftime": h.strftime,
		"file_size": h.fileSize, "file_date": h.fileDate, "file_touch": h.fileTouch,
		"file_cfgname": h.fileCfgname, "file_getname": h.fileGetname,
		"mail_get_name": h.mailGetName, "mail_get_address": h.mailGetAddress,
		"base64_decode": h.base64Decode, "base64_encode": h.base64Encode,
	}
	for k, fn := range funcs {
		if err := vm.Set(k, fn); err != nil {
			return err
		}
	}
	// The syslog levels, which Synchronet's host defines (sbbsdefs.js
	// only when the host has not).
	for i, name := range []string{"LOG_EMERG", "LOG_ALERT", "LOG_CRIT", "LOG_ERR", "LOG_WARNING", "LOG_NOTICE", "LOG_INFO", "LOG_DEBUG"} {
		if err := vm.Set(name, i); err != nil {
			return err
		}
	}
	for k, v := range map[string]any{
		"user": h.userObject(in), "client": h.clientObject(in), "server": h.serverObject(),
	} {
		if err := vm.Set(k, v); err != nil {
			return err
		}
	}
	return nil
}

// userObject is the authenticated sender (number 0 when there is none),
// with the parts of Synchronet's User class that processors test.
func (h *jsHost) userObject(in *Input) *goja.Object {
	c := &h.set.cfg
	info := UserInfo{Number: in.user()}
	if info.Number != 0 && c.User != nil {
		if u, ok := c.User(info.Number); ok {
			info = u
		}
	}
	o := h.vm.NewObject()
	sec := h.vm.NewObject()
	for k, v := range map[string]any{
		"level": info.Level, "flags1": letterBits(info.Flags1),
		"restrictions": letterBits(info.Restrictions), "exemptions": letterBits(info.Exemptions),
	} {
		_ = sec.Set(k, v)
	}
	for k, v := range map[string]any{
		"number": info.Number, "alias": info.Alias, "name": info.Name, "handle": info.Alias,
		"netmail": info.NetMail, "email": info.NetMail, "security": sec,
		"ip_address": in.Env.ClientIP, "host_name": in.Env.ClientHost,
	} {
		_ = o.Set(k, v)
	}
	_ = o.Set("compare_ars", func(call goja.FunctionCall) goja.Value {
		return h.vm.ToValue(h.compareARS(call.Argument(0).String(), in))
	})
	return o
}

// compareARS evaluates an access requirement string against the sender,
// false when it cannot be evaluated.
func (h *jsHost) compareARS(s string, in *Input) bool {
	if strings.TrimSpace(s) == "" {
		return true
	}
	if h.set.cfg.ARS == nil {
		return false
	}
	allow, err := h.set.cfg.ARS(s)
	if err != nil {
		h.log.Warn("!Mail processor script: access requirements cannot be read", "ars", s, "err", err)
		return false
	}
	return allow(in.access())
}

// letterBits turns flag letters into Synchronet's bit set (A = bit 0).
func letterBits(letters string) int64 {
	var n int64
	for _, r := range strings.ToUpper(letters) {
		if r >= 'A' && r <= 'Z' {
			n |= 1 << (r - 'A')
		}
	}
	return n
}

// clientObject is the SMTP client. The socket's local address is the
// first address the server listens on (bbsmail does not pass the accepted
// connection's own address to processors).
func (h *jsHost) clientObject(in *Input) *goja.Object {
	sock := h.vm.NewObject()
	for k, v := range map[string]any{
		"local_ip_address": h.localIP(), "remote_ip_address": in.Env.ClientIP, "local_port": in.Env.Port,
	} {
		_ = sock.Set(k, v)
	}
	o := h.vm.NewObject()
	for k, v := range map[string]any{
		"ip_address": in.Env.ClientIP, "host_name": in.Env.ClientHost, "protocol": "SMTP",
		"port": 0, "user": in.SenderAddr, "socket": sock,
	} {
		_ = o.Set(k, v)
	}
	return o
}

func (h *jsHost) localIP() string {
	for _, a := range h.set.cfg.Interfaces {
		if a != "" && a != "0.0.0.0" && a != "::" {
			return a
		}
	}
	return "127.0.0.1"
}

// serverObject is the mail server: its version and listening addresses.
func (h *jsHost) serverObject() *goja.Object {
	c := &h.set.cfg
	addrs := make([]any, len(c.Interfaces))
	for i, a := range c.Interfaces {
		addrs[i] = a
	}
	o := h.vm.NewObject()
	first := ""
	if len(c.Interfaces) > 0 {
		first = c.Interfaces[0]
	}
	for k, v := range map[string]any{
		"version": "bbsmail " + c.System.Version, "interface_ip_addr_list": h.vm.NewArray(addrs...),
		"interface_ip_address": first, "options": 0,
	} {
		_ = o.Set(k, v)
	}
	return o
}

// installSystem adds system's functions to the object system() built.
func (h *jsHost) installSystem(o *goja.Object) {
	for k, fn := range map[string]func(goja.FunctionCall) goja.Value{
		"findstr": h.findstr,
		"timestr": func(call goja.FunctionCall) goja.Value {
			return h.vm.ToValue(timestr(h.timeArg(call.Argument(0))))
		},
		"zonestr": func(goja.FunctionCall) goja.Value { return h.vm.ToValue(time.Now().Format("-0700")) },
		"spamlog": h.spamlog,
	} {
		_ = o.Set(k, fn)
	}
}

// findstr(file, text) reports whether text matches a pattern in a
// .can-style file, as Synchronet's system.findstr does; false when the
// file cannot be read.
func (h *jsHost) findstr(call goja.FunctionCall) goja.Value {
	data, err := h.fs.readFile(call.Argument(0).String())
	if err != nil {
		return h.vm.ToValue(false)
	}
	l, err := pattern.Parse(strings.NewReader(string(data)))
	if err != nil {
		h.log.Warn("!Mail processor script: pattern file cannot be read", "file", call.Argument(0).String(), "err", err)
		return h.vm.ToValue(false)
	}
	return h.vm.ToValue(l.Match(call.Argument(1).String()))
}

// spamlog(prot, action, reason, host, ip, to, from) appends an entry to
// the server's spam.log in its format, client text escaped.
func (h *jsHost) spamlog(call goja.FunctionCall) goja.Value {
	a := func(i int) string {
		if v := call.Argument(i); !goja.IsUndefined(v) && !goja.IsNull(v) {
			return v.String()
		}
		return ""
	}
	path := h.set.cfg.SpamLog
	if path == "" && h.set.cfg.DataDir != "" {
		path = filepath.Join(h.set.cfg.DataDir, "spam.log")
	}
	if path == "" {
		return h.vm.ToValue(false)
	}
	entry := envelope.SpamLogEntry(a(0), a(1), a(3), a(4), a(6), a(5), a(2), time.Now())
	f, err := h.fs.openFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return h.vm.ToValue(false)
	}
	_, werr := f.WriteString(entry)
	cerr := f.Close()
	return h.vm.ToValue(werr == nil && cerr == nil)
}

// resolveIP(host[, all]) answers the host's first address (or all of
// them as an array), null when it does not resolve.
func (h *jsHost) resolveIP(call goja.FunctionCall) goja.Value {
	look := h.set.cfg.LookupIP
	if look == nil {
		return goja.Null()
	}
	ctx, cancel := context.WithTimeout(h.ctx, resolveTimeout)
	defer cancel()
	addrs, err := look(ctx, call.Argument(0).String())
	if err != nil || len(addrs) == 0 {
		return goja.Null()
	}
	if call.Argument(1).ToBoolean() {
		list := make([]any, len(addrs))
		for i, a := range addrs {
			list[i] = a
		}
		return h.vm.NewArray(list...)
	}
	return h.vm.ToValue(addrs[0])
}

func (h *jsHost) timeNow(goja.FunctionCall) goja.Value { return h.vm.ToValue(time.Now().Unix()) }

// timeArg reads a time_t argument; undefined means now.
func (h *jsHost) timeArg(v goja.Value) time.Time {
	if goja.IsUndefined(v) || goja.IsNull(v) {
		return time.Now()
	}
	return time.Unix(v.ToInteger(), 0)
}

// timestr is Synchronet's timestr() on a 12-hour system:
// "Mon Dec 07 2026 02:33 am".
func timestr(t time.Time) string {
	return t.Format("Mon Jan 02 2006 03:04 pm")
}

// strftime(format[, time]) formats a time the way C's strftime does,
// for the conversions scripts use.
func (h *jsHost) strftime(call goja.FunctionCall) goja.Value {
	return h.vm.ToValue(strftime(call.Argument(0).String(), h.timeArg(call.Argument(1))))
}

func strftime(f string, t time.Time) string {
	conv := map[byte]string{
		'a': "Mon", 'A': "Monday", 'b': "Jan", 'h': "Jan", 'B': "January", 'd': "02", 'e': "_2",
		'H': "15", 'I': "03", 'M': "04", 'S': "05", 'p': "PM", 'y': "06", 'Y': "2006", 'm': "01",
		'Z': "MST", 'z': "-0700", 'T': "15:04:05", 'D': "01/02/06", 'R': "15:04",
		'c': "Mon Jan _2 15:04:05 2006", 'x': "01/02/06", 'X': "15:04:05",
	}
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		switch c := f[i]; c {
		case '%':
			b.WriteByte('%')
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		default:
			if layout, ok := conv[c]; ok {
				b.WriteString(t.Format(layout))
			} else {
				b.WriteByte('%')
				b.WriteByte(c)
			}
		}
	}
	return b.String()
}

// fileSize(name) is the size in bytes, -1 when the file cannot be reached.
func (h *jsHost) fileSize(call goja.FunctionCall) goja.Value {
	fi, err := h.fs.stat(call.Argument(0).String())
	if err != nil {
		return h.vm.ToValue(-1)
	}
	return h.vm.ToValue(fi.Size())
}

// fileDate(name) is the modification time (time_t), -1 when unreachable.
func (h *jsHost) fileDate(call goja.FunctionCall) goja.Value {
	fi, err := h.fs.stat(call.Argument(0).String())
	if err != nil {
		return h.vm.ToValue(-1)
	}
	return h.vm.ToValue(fi.ModTime().Unix())
}

// fileTouch(name) creates the file if it does not exist.
func (h *jsHost) fileTouch(call goja.FunctionCall) goja.Value {
	f, err := h.fs.openFile(call.Argument(0).String(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return h.vm.ToValue(false)
	}
	return h.vm.ToValue(f.Close() == nil)
}

// fileCfgname(dir, name) is Synchronet's host-specific configuration file
// choice: name.<host>.ext, name.<platform>.ext ... when one exists, else
// dir/name.
func (h *jsHost) fileCfgname(call goja.FunctionCall) goja.Value {
	dir, name := call.Argument(0).String(), call.Argument(1).String()
	ext := filepath.Ext(name)
	base := strings.TrimSuffix(name, ext)
	c := &h.set.cfg
	for _, part := range []string{c.FQDN, c.Host, c.platform()} {
		if part == "" || strings.ContainsAny(part, `/\`) {
			continue
		}
		p := filepath.Join(dir, base+"."+part+ext)
		if _, err := h.fs.stat(p); err == nil {
			return h.vm.ToValue(p)
		}
	}
	return h.vm.ToValue(filepath.Join(dir, name))
}

// fileGetname(path) is the last element of a path.
func (h *jsHost) fileGetname(call goja.FunctionCall) goja.Value {
	p := call.Argument(0).String()
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		p = p[i+1:]
	}
	return h.vm.ToValue(p)
}

// mailGetName and mailGetAddress are mailutil.js's helpers, built in so
// that mailproc_util.js finds them: the display name (else the address)
// and the address of an address header.
func (h *jsHost) mailGetName(call goja.FunctionCall) goja.Value {
	name, _ := addrParts(call.Argument(0).String())
	return h.vm.ToValue(name)
}

func (h *jsHost) mailGetAddress(call goja.FunctionCall) goja.Value {
	s := call.Argument(0).String()
	if _, addr := addrParts(s); addr != "" {
		return h.vm.ToValue(addr)
	}
	return h.vm.ToValue(strings.Trim(strings.TrimSpace(s), "<>"))
}

// base64Decode answers the decoded bytes (Latin-1), null when the text is
// not base64.
func (h *jsHost) base64Decode(call goja.FunctionCall) goja.Value {
	data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(call.Argument(0).String()))
	if err != nil {
		return goja.Null()
	}
	return h.vm.ToValue(latin1(data))
}

func (h *jsHost) base64Encode(call goja.FunctionCall) goja.Value {
	return h.vm.ToValue(base64.StdEncoding.EncodeToString(fromJS(call.Argument(0).String())))
}
