package mailproc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dlclark/regexp2/v2"
	"github.com/dop251/goja"
)

// maxRegexpMatch bounds one regular-expression match. goja runs patterns
// that Go's regexp cannot (lookaround, backreferences) on a backtracking
// engine, and Interrupt, which enforces the time limit, is only seen
// between instructions: a pattern such as /^(a+)+(?!a)\1x$/ on text a
// client sent would run for ever. A match that takes longer counts as no
// match, and the time limit stops the script at its next instruction.
const maxRegexpMatch = time.Second

func init() {
	// goja reads the default when it compiles a pattern; nothing here sets
	// a timeout of its own, so this is the bound for every script.
	regexp2.DefaultMatchTimeout = maxRegexpMatch
}

// maxCallStack bounds script recursion; a runaway recursion ends with a
// RangeError instead of eating memory.
const maxCallStack = 4096

// exitSignal is the interrupt value of exit(code).
type exitSignal struct{ code int64 }

// stopSignal is the interrupt value of the time limit (or shutdown).
type stopSignal struct{}

// jsHost is the host API of one JavaScript run: one goja Runtime, used by
// one goroutine, thrown away afterwards.
type jsHost struct {
	ctx   context.Context // the run's; ends with the time limit
	set   *Set
	vm    *goja.Runtime
	log   *slog.Logger
	fs    *jsFS     // what the script's file functions reach
	files []*jsFile // opened by the script; closed when it ends
	// sockets the script made; closed when it ends
	sockets []*jsSocket
	// sysopHosts are the words of the processor's Command as the sysop
	// wrote them (no %-specifier): the hosts a Socket may reach beside
	// loopback ones.
	sysopHosts []string
	// unsupported is set when the script used what bbsmail cannot provide
	// (ErrUnsupported); wrote when it saved a message with MsgBase.
	unsupported error
	wrote       bool
}

// runJS runs a JavaScript processor: its Eval text, or the script named by
// the first word of the (expanded) command line, found in mods/ before
// exec/ when it has no directory, with ".js" added when it has no
// extension. The other words become argv. The time limit (ctx) and exit()
// stop the script through Interrupt.
func (s *Set) runJS(ctx context.Context, p *Processor, words []string, f *files, in *Input, log *slog.Logger) error {
	name, dir, src, argv, err := s.jsSource(p, words)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotStarted, err)
	}
	prog, err := goja.Compile(name, src, false)
	if err != nil {
		return fmt.Errorf("%w: script %s: %w", ErrNotStarted, name, err)
	}
	wrote, err := s.execJS(ctx, p, prog, name, dir, argv, f, in, log)
	if err != nil || !wrote {
		return err
	}
	// A script that saved a message (a list server posting a contribution
	// or answering a command) is run once more without the message, as
	// Synchronet runs it as a timed event: that pass sends new posts to
	// the subscribers. Passes are serialised so that no post goes out
	// twice. The message itself was handled: a failure here is logged.
	s.events.Lock()
	defer s.events.Unlock()
	log.Info("Running " + name + " as an event (it saved a message)")
	if _, err := s.execJS(ctx, p, prog, name, dir, argv, nil, in, log); err != nil {
		log.Warn("!Mail processor event pass failed", "err", err)
	}
	return nil
}

// execJS runs a compiled script once; f == nil runs it as an event,
// without the message globals. wrote reports whether it saved a message.
func (s *Set) execJS(ctx context.Context, p *Processor, prog *goja.Program, name, dir string, argv []string,
	f *files, in *Input, log *slog.Logger) (wrote bool, err error) {
	h := &jsHost{ctx: ctx, set: s, vm: goja.New(), log: log, fs: newJSFS(&s.cfg, log), sysopHosts: sysopWords(p.Command)}
	defer h.closeFiles()
	h.vm.SetMaxCallStackSize(maxCallStack)
	if err := h.install(f, in, argv, dir); err != nil {
		return false, fmt.Errorf("setting up the script: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { h.vm.Interrupt(stopSignal{}) })
	defer stop()
	if limit := s.cfg.JSMaxBytes; limit > 0 {
		defer memWatcher.watch(limit, func(grew int64) { h.vm.Interrupt(memSignal{limit: limit, grew: grew}) })()
	}
	_, err = h.vm.RunProgram(prog)
	return h.wrote, h.outcome(ctx, name, err)
}

// jsSource finds the script to run, the directory it counts as running
// from (js.exec_dir) and its arguments.
func (s *Set) jsSource(p *Processor, words []string) (name, dir, src string, argv []string, err error) {
	if len(words) > 1 {
		argv = words[1:]
	}
	if p.Eval != "" {
		return "[" + p.Name + "] Eval", s.cfg.ExecDir, p.Eval, argv, nil
	}
	if len(words) == 0 {
		return "", "", "", nil, errors.New("empty command line")
	}
	file := words[0]
	if filepath.Ext(file) == "" {
		file += ".js"
	}
	path := file
	if !strings.ContainsAny(file, `/\`) {
		path = filepath.Join(s.cfg.ExecDir, file)
		if s.cfg.ModsDir != "" {
			if mod := filepath.Join(s.cfg.ModsDir, file); fileExists(mod) {
				path = mod
			}
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", "", "", nil, fmt.Errorf("script: %w", err)
	}
	return path, filepath.Dir(path), string(data), argv, nil
}

// outcome turns the end of a script into the processor's result: exit()
// or exit(0) and falling off the end succeed; exit(n), an exception and
// the time limit fail.
func (h *jsHost) outcome(ctx context.Context, name string, err error) error {
	var ie *goja.InterruptedError
	if errors.As(err, &ie) {
		switch v := ie.Value().(type) {
		case exitSignal:
			if v.code == 0 {
				return nil
			}
			return fmt.Errorf("script %s: exit(%d)", name, v.code)
		case memSignal:
			return fmt.Errorf("script %s: %w (JavaScriptMaxBytes %d, the heap grew by %d): stopped", name, ErrMemoryLimit, v.limit, v.grew)
		case stopSignal:
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("script %s: %w (%v): stopped", name, ErrTimeout, h.set.cfg.jsTimeout())
			}
			return fmt.Errorf("script %s: stopped: %w", name, ctx.Err())
		}
	}
	if err != nil && h.unsupported != nil {
		return fmt.Errorf("script %s: %w (%w)", name, err, h.unsupported)
	}
	if err != nil {
		return fmt.Errorf("script %s: %w", name, err)
	}
	return nil
}

// install defines the globals a Synchronet mail processor script expects,
// as far as bbsmail provides them (docs/mailproc-ini.md lists the subset).
func (h *jsHost) install(f *files, in *Input, argv []string, dir string) error {
	vm := h.vm
	g := vm.GlobalObject()
	ro := map[string]string{}
	if f != nil {
		ro = map[string]string{
			"message_text_filename":     f.msg,
			"new_message_text_filename": f.new,
			"recipient_list_filename":   f.lst,
			"processing_error_filename": f.err,
			"log_text_filename":         f.log,
			"hello_name":                in.Env.Helo,
			"sender_name":               in.SenderName,
			"sender_address":            in.SenderAddr,
			"reverse_path":              angle(in.Env.ReversePath),
			"recipient_address":         in.LastRcpt,
		}
	}
	for k, v := range ro {
		if err := g.DefineDataProperty(k, vm.ToValue(v), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE); err != nil {
			return err
		}
	}
	args := make([]any, len(argv))
	for i, a := range argv {
		args[i] = a
	}
	if err := g.DefineDataProperty("argv", vm.NewArray(args...), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE); err != nil {
		return err
	}
	if err := g.DefineDataProperty("argc", vm.ToValue(len(argv)), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE); err != nil {
		return err
	}
	funcs := map[string]func(goja.FunctionCall) goja.Value{
		"log": h.logFunc, "print": h.logFunc, "write": h.logFunc, "writeln": h.logFunc,
		"alert": h.alert, "exit": h.exit, "load": h.load, "require": h.require,
		"file_exists": h.fileExists, "file_remove": h.fileRemove, "file_rename": h.fileRename,
	}
	for k, fn := range funcs {
		if err := vm.Set(k, fn); err != nil {
			return err
		}
	}
	if err := vm.Set("File", h.fileConstructor); err != nil {
		return err
	}
	if err := vm.Set("Socket", h.socketConstructor); err != nil {
		return err
	}
	if err := vm.Set("MsgBase", h.msgBaseConstructor); err != nil {
		return err
	}
	if err := vm.Set("msg_area", h.msgArea()); err != nil {
		return err
	}
	sys := h.system()
	h.installSystem(sys)
	if err := vm.Set("system", sys); err != nil {
		return err
	}
	if err := h.installHost(in); err != nil {
		return err
	}
	js := vm.NewObject()
	for k, v := range map[string]any{"terminated": false, "global": g, "exec_dir": dirSlash(dir)} {
		if err := js.Set(k, v); err != nil {
			return err
		}
	}
	return vm.Set("js", js)
}

// angle writes a reverse path the way Synchronet's reverse_path holds it.
func angle(path string) string { return "<" + path + ">" }

// system is the subset of Synchronet's system object that processors use
// to find their files and name the BBS. Directories end with a separator.
func (h *jsHost) system() *goja.Object {
	c := &h.set.cfg
	o := h.vm.NewObject()
	for k, v := range map[string]string{
		"name": c.System.Name, "operator": c.System.Operator, "qwk_id": c.System.QWKID,
		"inet_addr": c.System.InetAddr, "host_name": c.FQDN, "version": c.System.Version,
		"platform": platformName(c.platform()),
		"temp_dir": dirSlash(c.TempDir), "data_dir": dirSlash(c.DataDir), "ctrl_dir": dirSlash(c.CtrlDir),
		"exec_dir": dirSlash(c.ExecDir), "mods_dir": dirSlash(c.ModsDir), "text_dir": dirSlash(c.TextDir),
	} {
		_ = o.Set(k, v) // Set on a fresh ordinary object cannot fail
	}
	return o
}

// platformName capitalises the platform as Synchronet does ("Linux").
func platformName(p string) string {
	if p == "" {
		return p
	}
	return strings.ToUpper(p[:1]) + p[1:]
}

// logFunc is log([level,] text...): each text is one log line; the level
// is a syslog level (0-7), LOG_INFO by default.
func (h *jsHost) logFunc(call goja.FunctionCall) goja.Value {
	args := call.Arguments
	level := slog.LevelInfo
	if len(args) > 1 && isNumber(args[0]) {
		level = syslogLevel(args[0].ToInteger())
		args = args[1:]
	}
	var last goja.Value = goja.Undefined()
	for _, a := range args {
		h.log.Log(context.Background(), level, "External mail processor: "+a.String())
		last = a
	}
	return last
}

// alert(text) logs at error level.
func (h *jsHost) alert(call goja.FunctionCall) goja.Value {
	h.log.Error("External mail processor: " + call.Argument(0).String())
	return goja.Undefined()
}

func isNumber(v goja.Value) bool {
	switch v.Export().(type) {
	case int64, float64:
		return true
	}
	return false
}

// syslogLevel maps LOG_EMERG..LOG_DEBUG onto slog levels.
func syslogLevel(n int64) slog.Level {
	switch {
	case n <= 3:
		return slog.LevelError
	case n == 4:
		return slog.LevelWarn
	case n >= 7:
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// exit([code]) ends the script at once.
func (h *jsHost) exit(call goja.FunctionCall) goja.Value {
	var code int64
	if len(call.Arguments) > 0 && !goja.IsUndefined(call.Arguments[0]) {
		code = call.Arguments[0].ToInteger()
	}
	h.vm.Interrupt(exitSignal{code: code})
	return goja.Undefined()
}

// load(file) runs another script in the global scope and returns its
// value. Only files under exec/ and mods/ may be loaded: a relative name
// is looked for in mods/load/, exec/load/, mods/ and exec/, in that order.
func (h *jsHost) load(call goja.FunctionCall) goja.Value {
	arg := call.Argument(0)
	if _, ok := arg.Export().(bool); ok {
		panic(h.vm.NewTypeError("load: background scripts are not supported"))
	}
	path, err := h.resolveLoad(arg.String())
	if err != nil {
		panic(h.vm.NewGoError(err))
	}
	src, err := h.fs.readFile(path)
	if err != nil {
		panic(h.vm.NewGoError(fmt.Errorf("load: %w", err)))
	}
	prog, err := goja.Compile(path, string(src), false)
	if err != nil {
		panic(h.vm.NewGoError(fmt.Errorf("load %s: %w", path, err)))
	}
	v, err := h.vm.RunProgram(prog)
	if err != nil {
		// An exception stays catchable by the caller; exit() and the time
		// limit (uncatchable) travel on up to the top.
		panic(err)
	}
	return v
}

// require(file, symbol) loads file unless symbol is already defined.
func (h *jsHost) require(call goja.FunctionCall) goja.Value {
	if sym := call.Argument(1); !goja.IsUndefined(sym) {
		if v := h.vm.Get(sym.String()); v != nil && !goja.IsUndefined(v) {
			return goja.Undefined()
		}
	}
	return h.load(goja.FunctionCall{This: call.This, Arguments: call.Arguments[:min(1, len(call.Arguments))]})
}

// resolveLoad finds a file for load().
func (h *jsHost) resolveLoad(name string) (string, error) {
	c := &h.set.cfg
	var roots []string
	for _, d := range []string{c.ModsDir, c.ExecDir} {
		if d != "" {
			if abs, err := filepath.Abs(d); err == nil {
				roots = append(roots, abs)
			}
		}
	}
	var tries []string
	if filepath.IsAbs(name) {
		tries = []string{name}
	} else {
		for _, sub := range []string{"load", ""} {
			for _, r := range roots {
				tries = append(tries, filepath.Join(r, sub, name))
			}
		}
	}
	for _, t := range tries {
		t = filepath.Clean(t)
		if !under(t, roots) {
			continue
		}
		// Through the script's file system: a link in exec/ or mods/
		// that leads elsewhere is not followed.
		if fi, err := h.fs.stat(t); err == nil && !fi.IsDir() {
			return t, nil
		}
	}
	return "", fmt.Errorf("load: %q not found under the exec or mods directory", name)
}

// under reports whether path lies inside one of the roots.
func under(path string, roots []string) bool {
	for _, r := range roots {
		if rel, err := filepath.Rel(r, path); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir()
}

// The file_* functions answer false instead of throwing, as Synchronet's
// do.
func (h *jsHost) fileExists(call goja.FunctionCall) goja.Value {
	_, err := h.fs.stat(call.Argument(0).String())
	return h.vm.ToValue(err == nil)
}

func (h *jsHost) fileRemove(call goja.FunctionCall) goja.Value {
	return h.vm.ToValue(h.fs.remove(call.Argument(0).String()) == nil)
}

func (h *jsHost) fileRename(call goja.FunctionCall) goja.Value {
	return h.vm.ToValue(h.fs.rename(call.Argument(0).String(), call.Argument(1).String()) == nil)
}

// sysopWords are the words of a command line without %-specifiers.
func sysopWords(cmd string) []string {
	var out []string
	for _, w := range strings.Fields(cmd) {
		if !strings.Contains(w, "%") {
			out = append(out, w)
		}
	}
	return out
}

func (h *jsHost) closeFiles() {
	for _, f := range h.files {
		f.close()
	}
	for _, s := range h.sockets {
		s.close()
	}
	h.fs.close()
}
