package mailproc

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
)

// Input is one received message at the end of DATA, before it is stored.
type Input struct {
	// Protocol names the temporary files (SBBS_<Protocol>.<id>.msg); empty
	// means "SMTP".
	Protocol string
	// Env is the envelope: client, HELO, reverse path, authenticated user,
	// recipients (with the processors they matched at RCPT time) and the
	// spam flag. Run does not modify it.
	Env *envelope.Envelope
	// Text is the message as received: header and body with CRLF line
	// ends, dot-unstuffed, without the server's own Received header.
	Text []byte
	// Prefix holds header fields the server adds on top of Text
	// (Authentication-Results): the processors see them first in the
	// message file, but they are kept apart so a large message is never
	// copied to put them in front.
	Prefix []byte
	// SenderName and SenderAddr come from the From header, else from the
	// reverse path; From patterns are matched against SenderAddr.
	SenderName, SenderAddr string
	// LastRcpt is the address of the last RCPT TO (recipient_address, %t).
	LastRcpt string
	// Listed: the client is DNS-blacklisted. Bait: the last RCPT was spam
	// bait. ProcessDNSBL=false and ProcessSPAM=false look at them.
	Listed, Bait bool
	// Logger overrides Config.Logger for this run (the session's logger).
	Logger *slog.Logger
}

func (in *Input) spam() bool { return in.Env.Spam || in.Bait }

func (in *Input) user() uint32 {
	if in.Env.Auth != nil {
		return in.Env.Auth.User
	}
	return 0
}

func (in *Input) access() Access {
	return Access{User: in.user(), IP: in.Env.ClientIP, Host: in.Env.ClientHost, Protocol: protocol(in.Env.TLS)}
}

func (in *Input) logger(s *Set) *slog.Logger {
	switch {
	case in.Logger != nil:
		return in.Logger
	case s != nil && s.cfg.Logger != nil:
		return s.cfg.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Output is what the processors made of a message. Exactly one of these
// holds: Reject is set (send its lines, store nothing); Consumed is set
// (answer 250, store nothing, not even for the other recipients); or the
// message goes on to be stored as Text for Rcpts.
type Output struct {
	// Text is the message text to store: Input.Text, or what the
	// processors left in the message file (or a non-empty .new file).
	// Prefix is Input.Prefix while the text is unchanged; once the
	// processors changed it, Text holds what they left, prefix included,
	// and Prefix is nil.
	Text        []byte
	Prefix      []byte
	TextChanged bool
	// Rcpts are the recipients to store the message for. Entries the
	// processors left alone are the original envelope.Rcpt values (trace
	// included); added or edited entries are built from their keys.
	Rcpts []envelope.Rcpt
	// Unusable lists recipient list entries that could not become
	// recipients, and recipients captured for a processor that did not
	// take the message; the caller logs and skips them.
	Unusable []Unusable
	// Consumed: a processor took the message (PassThru=false, it deleted
	// the message file or recipient list, or it failed with
	// IgnoreOnError), or no recipients remain. Reason says which.
	Consumed bool
	Reason   string
	// Reject is the reply a processor asked for with a processing error
	// (.err) file, or 451 when a processor that matters failed.
	Reject *envelope.Reply
	// By names the processor that consumed or rejected the message.
	By string
	// Ran lists the processors that ran, in order; Failed those of them
	// that failed (non-zero exit, time limit, script error). Failures are
	// logged; apart from IgnoreOnError they do not change the outcome.
	Ran    []string
	Failed []Failure

	unstarted map[string]bool // processors whose script could not be loaded
}

// Failure is one processor that did not complete normally.
type Failure struct {
	Processor string
	Err       error
}

// ErrTimeout is wrapped by the failure of a processor stopped at the time
// limit.
var ErrTimeout = errors.New("mail processor time limit reached")

// ErrMemoryLimit is wrapped by the failure of a script stopped at its
// memory limit (Config.JSMaxBytes).
var ErrMemoryLimit = errors.New("mail processor memory limit reached")

// MaxRunTime bounds one Run, all processors included.
const MaxRunTime = 8 * time.Minute

// ErrNotStarted is wrapped by the failure of a JavaScript processor whose
// script could not be found or compiled. Nothing of it ran, so it neither
// consumes the message nor stops the processors after it.
var ErrNotStarted = errors.New("mail processor could not be started")

// files are the temporary file names of one run.
type files struct {
	msg, new, lst, err, log string
}

func (f *files) all() []string { return []string{f.msg, f.new, f.lst, f.err, f.log} }

// Run passes one message through the processors that apply to it, in
// mailproc.ini order, following Synchronet's file contract: the message
// (.msg) and recipient list (.lst) are written to the temporary directory,
// each processor may replace the text (.new), edit the list, reject the
// message (.err) or log (.log), and the run stops at the first processor
// that consumes or rejects the message. The temporary files are always
// removed. When no processor applies, nothing touches the disk.
//
// A processor's failure is logged and reported in Output.Failed; only a
// local problem (the temporary directory cannot be written, ctx ended)
// returns an error, which the caller answers as a temporary failure. A
// nil *Set runs nothing.
func (s *Set) Run(ctx context.Context, in Input) (out Output, err error) {
	if in.Env == nil {
		return Output{}, errors.New("mailproc: Run without an envelope")
	}
	// All processors together finish before the client gives up waiting
	// for the reply to its final dot (10 minutes, RFC 5321 §4.5.3.2.6):
	// a client that timed out would send the message again.
	ctx, cancel := context.WithTimeout(ctx, MaxRunTime)
	defer cancel()
	procs := s.selected(&in)
	if len(procs) == 0 {
		if s != nil && s.cfg.KeepMessage {
			s.keepMessage(&in)
		}
		out = Output{Text: in.Text, Prefix: in.Prefix, Rcpts: in.Env.Rcpts}
		s.finish(&in, &out)
		return out, nil
	}
	f, err := s.prepare(&in)
	if err != nil {
		return Output{}, err
	}
	defer f.remove(in.logger(s), s.cfg.KeepMessage)
	wrote, written, err := f.write(&in)
	if err != nil {
		return Output{}, err
	}
	for _, p := range procs {
		if err := ctx.Err(); err != nil {
			return Output{}, fmt.Errorf("mailproc: %w", err)
		}
		if done := s.step(ctx, p, f, &in, &out); done {
			return out, nil
		}
	}
	if err := ctx.Err(); err != nil {
		return Output{}, fmt.Errorf("mailproc: %w", err)
	}
	if err := s.readBack(f, &in, &out, wrote, written); err != nil {
		return Output{}, err
	}
	s.finish(&in, &out)
	return out, nil
}

// step runs one processor and applies the contract's stop rules; done is
// true when the message has been rejected or consumed.
//
// A processor that fails (non-zero exit, time limit, script error, or it
// could not be started) changes nothing: the message text and recipient
// list it may have half written are put back as they were, and its .new
// file is discarded. Its failure then decides only this: with
// IgnoreOnError, a native processor's non-zero exit drops the message (the
// sysop asked for that); a processor that would have taken the message
// (PassThru=false) answers 451, so the client tries again later instead of
// the message vanishing; any other processor is skipped.
func (s *Set) step(ctx context.Context, p *Processor, f *files, in *Input, out *Output) (done bool) {
	log := in.logger(s).With("processor", p.Name)
	log.Info("Executing external mail processor: " + p.Name)
	out.Ran = append(out.Ran, p.Name)
	saved, err := f.snapshot(in.Prefix, in.Text)
	if err != nil {
		out.Reject, out.By = tempFailure(), p.Name
		log.Error("!Cannot read the mail processor files", "err", err)
		return true
	}
	if err := s.runOne(ctx, p, f, in, log); err != nil {
		return s.failed(ctx, p, f, saved, err, out, log)
	}
	drainLog(f.log, log)
	if data, _ := os.ReadFile(f.err); len(data) > 0 {
		out.Reject, out.By = parseRejection(data), p.Name
		log.Info("!External mail processor rejected the message", "reply", strings.Join(out.Reject.Lines(), " / "))
		return true
	}
	for _, g := range []struct{ path, what string }{{f.msg, "message text"}, {f.lst, "recipient list"}} {
		if _, err := os.Stat(g.path); errors.Is(err, os.ErrNotExist) {
			out.Consumed, out.By, out.Reason = true, p.Name, "removed the "+g.what
			log.Info("External mail processor removed the " + g.what)
			return true
		}
	}
	if fi, err := os.Stat(f.new); err == nil && fi.Size() > 0 {
		// The next processor sees the new text (Synchronet applies only the
		// last .new, after all processors, so an earlier processor's
		// rewrite would be lost on the way).
		if err := os.Rename(f.new, f.msg); err != nil {
			log.Warn("!Cannot use the new message text", "err", err)
		} else {
			out.TextChanged = true
		}
	}
	_ = os.Remove(f.new)
	if !p.PassThru {
		out.Consumed, out.By, out.Reason = true, p.Name, "PassThru=false"
		return true
	}
	return false
}

// failed handles a processor's failure as step describes.
func (s *Set) failed(ctx context.Context, p *Processor, f *files, saved snapshot, err error, out *Output, log *slog.Logger) (done bool) {
	out.Failed = append(out.Failed, Failure{Processor: p.Name, Err: err})
	log.Warn("!External mail processor failed", "err", err)
	drainLog(f.log, log)
	if rerr := f.restore(saved); rerr != nil {
		log.Error("!Cannot restore the message after a failed mail processor", "err", rerr)
		out.Reject, out.By = tempFailure(), p.Name
		return true
	}
	if ctx.Err() != nil {
		// Stopped because the server is (or the run's overall limit
		// passed): Run answers it as a temporary failure.
		return false
	}
	if errors.Is(err, ErrNotStarted) {
		if out.unstarted == nil {
			out.unstarted = map[string]bool{}
		}
		out.unstarted[p.Name] = true
	}
	var exit *exec.ExitError
	if p.Native && p.IgnoreOnError && errors.As(err, &exit) && !errors.Is(err, ErrTimeout) {
		log.Warn("!IGNORED MAIL due to mail processor error (IgnoreOnError)")
		out.Consumed, out.By, out.Reason = true, p.Name, "failed with IgnoreOnError set: "+err.Error()
		return true
	}
	if data, _ := os.ReadFile(f.err); len(data) > 0 {
		out.Reject, out.By = parseRejection(data), p.Name
		log.Info("!External mail processor rejected the message", "reply", strings.Join(out.Reject.Lines(), " / "))
		return true
	}
	if !p.PassThru {
		out.Reject, out.By = tempFailure(), p.Name
		if errors.Is(err, ErrUnsupported) {
			// Trying again would fail the same way.
			out.Reject = &envelope.Reply{Code: 550, Enhanced: "5.3.3",
				Text: "Mail processor cannot handle this message here"}
		}
		return true
	}
	return false
}

// tempFailure is the answer when a processor that matters could not do
// its work: the client keeps the message and tries again later.
func tempFailure() *envelope.Reply {
	return &envelope.Reply{Code: 451, Enhanced: "4.3.0", Text: "Mail processor unavailable, try again later"}
}

// snapshot is the message text and recipient list before a processor ran.
// prefix and msg are the text itself, which is usually Input's unchanged:
// then it is not read again, so a large message is not held twice.
type snapshot struct{ prefix, msg, lst []byte }

func (f *files) snapshot(prefix, text []byte) (snapshot, error) {
	msg := text
	same, err := sameFile(f.msg, prefix, text)
	if err == nil && !same {
		prefix = nil
		msg, err = os.ReadFile(f.msg)
	}
	if err != nil {
		return snapshot{}, fmt.Errorf("mailproc: %w", err)
	}
	lst, err := os.ReadFile(f.lst)
	if err != nil {
		return snapshot{}, fmt.Errorf("mailproc: %w", err)
	}
	return snapshot{prefix: prefix, msg: msg, lst: lst}, nil
}

// restore puts back what snapshot saw and discards a new-message file.
func (f *files) restore(s snapshot) error {
	if err := os.Remove(f.msg); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("mailproc: %w", err)
	}
	if err := createFile(f.msg, s.prefix, s.msg); err != nil {
		return err
	}
	if err := os.WriteFile(f.lst, s.lst, 0o600); err != nil {
		return fmt.Errorf("mailproc: %w", err)
	}
	if err := os.Remove(f.new); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("mailproc: %w", err)
	}
	return nil
}

// runOne runs one processor under the time limit. A panic anywhere in it
// (the JavaScript engine included) becomes its failure.
func (s *Set) runOne(ctx context.Context, p *Processor, f *files, in *Input, log *slog.Logger) (err error) {
	defer func() {
		if r := recover(); r != nil {
			log.Error("mail processor panic", "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	limit := s.cfg.timeout()
	if !p.Native {
		limit = s.cfg.jsTimeout()
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	vals := s.specValues(f, in)
	if p.Native {
		cmd := expand(p.Command, vals, true)
		log.Debug("Executing external command: " + cmd)
		return s.runNative(ctx, cmd, environ(in), log)
	}
	return s.runJS(ctx, p, expandWords(p.Command, vals), f, in, log)
}

func (s *Set) specValues(f *files, in *Input) *specValues {
	c := &s.cfg
	return &specValues{
		msg: f.msg, newMsg: f.new, list: f.lst, errFile: f.err, logFile: f.log,
		host: in.Env.ClientHost, ip: in.Env.ClientIP,
		sender: in.SenderName, senderAddr: in.SenderAddr, user: in.user(),
		reversePath: in.Env.ReversePath, rcpt: in.LastRcpt,
		exec: dirSlash(c.ExecDir), temp: dirSlash(c.TempDir), data: dirSlash(c.DataDir),
		ctrl: dirSlash(c.CtrlDir), text: dirSlash(c.TextDir),
		sysop: c.System.Operator, qwkID: c.System.QWKID, version: c.System.Version,
		platform: c.platform(), windows: runtime.GOOS == "windows",
	}
}

// dirSlash gives a directory with its trailing separator, the way
// Synchronet's paths (and so the scripts written for them) have it.
func dirSlash(d string) string {
	if d == "" || strings.HasSuffix(d, string(filepath.Separator)) {
		return d
	}
	return d + string(filepath.Separator)
}

// prepare names the temporary files: temp/SBBS_<PROT>.<id>.<ext>, with an
// id made of the process id and random bits so concurrent sessions and
// servers sharing the directory never collide.
func (s *Set) prepare(in *Input) (*files, error) {
	if err := s.cfg.ensureTemp(); err != nil {
		return nil, err
	}
	prot := "SMTP"
	if in.Protocol != "" && strings.IndexFunc(in.Protocol, func(r rune) bool {
		return (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') && (r < '0' || r > '9')
	}) < 0 {
		prot = in.Protocol
	}
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, fmt.Errorf("mailproc: session id: %w", err)
	}
	base := filepath.Join(s.cfg.TempDir, fmt.Sprintf("SBBS_%s.%x%s", prot, os.Getpid(), hex.EncodeToString(rnd[:])))
	return &files{msg: base + ".msg", new: base + ".new", lst: base + ".lst", err: base + ".err", log: base + ".log"}, nil
}

// write creates the message and recipient list files (mode 0600: they
// hold other people's mail).
func (f *files) write(in *Input) ([]ListEntry, []int, error) {
	if err := createFile(f.msg, in.Prefix, in.Text); err != nil {
		return nil, nil, err
	}
	data, entries, written := writeList(in.Env.Rcpts)
	if err := createFile(f.lst, data); err != nil {
		return nil, nil, err
	}
	return entries, written, nil
}

func createFile(path string, parts ...[]byte) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("mailproc: %w", err)
	}
	var werr error
	for _, p := range parts {
		if _, werr = fh.Write(p); werr != nil {
			break
		}
	}
	if cerr := fh.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("mailproc: writing %s: %w", path, werr)
	}
	return nil
}

// sameFile reports whether the file at path holds exactly the parts one
// after the other, reading it a piece at a time.
func sameFile(path string, parts ...[]byte) (bool, error) {
	fh, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer fh.Close()
	size := 0
	for _, p := range parts {
		size += len(p)
	}
	if fi, err := fh.Stat(); err != nil || fi.Size() != int64(size) {
		return false, err
	}
	buf := make([]byte, 64<<10)
	for _, text := range parts {
		for len(text) > 0 {
			n, err := io.ReadFull(fh, buf[:min(len(buf), len(text))])
			if err != nil {
				return false, err
			}
			if !bytes.Equal(buf[:n], text[:n]) {
				return false, nil
			}
			text = text[n:]
		}
	}
	return true, nil
}

// keepMessage writes the received message to temp/ as a .msg file when
// no processor ran, for DEBUG_RX_BODY: Synchronet spools every message
// there and keeps the file with that option.
func (s *Set) keepMessage(in *Input) {
	f, err := s.prepare(in)
	if err == nil {
		err = createFile(f.msg, in.Text)
	}
	if err != nil {
		in.logger(s).Warn("!DEBUG_RX_BODY: cannot keep the received message", "err", err)
		return
	}
	in.logger(s).Debug("DEBUG_RX_BODY: received message kept in " + f.msg)
}

// remove deletes whatever temporary files exist; with keepMsg
// (DEBUG_RX_BODY) the message text stays.
func (f *files) remove(log *slog.Logger, keepMsg bool) {
	if keepMsg {
		log.Debug("DEBUG_RX_BODY: received message kept in " + f.msg)
	}
	for _, p := range f.all() {
		if keepMsg && p == f.msg {
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			log.Warn("!Cannot remove mail processor file", "file", p, "err", err)
		}
	}
}

// Bounds on a processor's debug log (.log) copied into the server log.
const (
	maxLogLines = 1000
	maxLogLine  = 1024
)

// drainLog copies the processor's debug log into the server log at debug
// level and deletes it.
func drainLog(path string, log *slog.Logger) {
	defer func() { _ = os.Remove(path) }()
	fh, err := os.Open(path)
	if err != nil {
		return
	}
	defer fh.Close()
	logLines(fh, log, "External mail processor debug: ")
}

// logLines logs each line of r at debug level, within the bounds above.
func logLines(r io.Reader, log *slog.Logger, prefix string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 0; n < maxLogLines && sc.Scan(); n++ {
		line := strings.TrimRight(clean(sc.Text()), " ")
		if len(line) > maxLogLine {
			line = line[:maxLogLine]
		}
		if line != "" {
			log.Debug(prefix + line)
		}
	}
}

// readBack reads the message text and recipient list the processors left.
func (s *Set) readBack(f *files, in *Input, out *Output, wrote []ListEntry, written []int) error {
	// Text the processors left as it was is not read back: the caller
	// keeps using its own, and a large message is not held twice.
	text, prefix := in.Text, in.Prefix
	same, err := sameFile(f.msg, in.Prefix, in.Text)
	if err == nil && !same {
		text, prefix = nil, nil
		text, err = os.ReadFile(f.msg)
		out.TextChanged = true
	}
	if err != nil {
		return fmt.Errorf("mailproc: reading the processed message: %w", err)
	}
	if out.TextChanged {
		// Scripts write lines with "\n" (File.writeln does); the message
		// goes on as CRLF text.
		text = crlf(text)
	}
	out.Text, out.Prefix = text, prefix
	lst, err := os.ReadFile(f.lst)
	if err != nil {
		return fmt.Errorf("mailproc: reading the recipient list: %w", err)
	}
	rcpts, bad := s.fromList(ReadList(lst), wrote, in.Env.Rcpts, written)
	// Sub-board posts and bait were never in the list; they stay.
	for _, rc := range in.Env.Rcpts {
		if rc.Kind == envelope.KindSub || rc.Kind == envelope.KindDrop {
			rcpts = append(rcpts, rc)
		}
	}
	out.Rcpts, out.Unusable = rcpts, bad
	return nil
}

// finish applies the rules shared by every message that goes on: the cap
// on recipients, recipients captured for a processor that did not take
// the message, and an empty recipient list.
func (s *Set) finish(in *Input, out *Output) {
	var keep []envelope.Rcpt
	var orphans []envelope.Rcpt
	limit := 0
	if s != nil {
		limit = s.cfg.MaxRecipients
	}
	for _, rc := range out.Rcpts {
		switch {
		case captured(rc):
			orphans = append(orphans, rc)
			out.Unusable = append(out.Unusable, Unusable{Entry: toEntry("", rc),
				Reason: "captured for mail processor " + strings.Join(rc.Processors, ", ") + ", which did not take the message"})
		case limit > 0 && len(keep) >= limit:
			out.Unusable = append(out.Unusable, Unusable{Entry: toEntry("", rc), Reason: "over MaxRecipients"})
		default:
			keep = append(keep, rc)
		}
	}
	out.Rcpts = keep
	if len(orphans) > 0 {
		// The whole message is refused rather than stored for the other
		// recipients only: after a 250 the sender would never learn that
		// the captured address got nothing.
		out.Reject = orphanReply(orphans, s.unavailable(out.unstarted))
		return
	}
	for _, u := range out.Unusable {
		in.logger(s).Warn("!Recipient skipped after mail processing", "to", u.Entry.To, "reason", u.Reason)
	}
	if len(keep) > 0 {
		return
	}
	out.Consumed, out.Reason = true, "no recipients left"
}

// unavailable reports the processors that could not be started, and those
// this Set does not have or has disabled: a reload between RCPT and DATA
// removed the processor that captured a recipient, which is worth a retry
// rather than a refusal.
func (s *Set) unavailable(unstarted map[string]bool) func(string) bool {
	have := map[string]bool{}
	for _, p := range s.Processors() {
		if !p.Disabled {
			have[p.Name] = true
		}
	}
	return func(name string) bool { return unstarted[name] || !have[name] }
}

// orphanReply answers a message whose only recipients were captured for
// processors that did not take it, rather than dropping it unseen. When
// such a processor could not be started (its script is missing or broken)
// the sysop has something to fix and the sender should try again later;
// otherwise the processor declined the message (its From or ProcessSPAM
// settings) and the address is refused as it would be without the
// processor.
func orphanReply(orphans []envelope.Rcpt, unavailable func(string) bool) *envelope.Reply {
	for _, rc := range orphans {
		for _, n := range rc.Processors {
			if unavailable(n) {
				return tempFailure()
			}
		}
	}
	text := make([]string, 0, min(len(orphans), maxRejectLines))
	for _, rc := range orphans[:cap(text)] {
		text = append(text, "Unknown User: "+oneLine(rc.ForwardPath))
	}
	return &envelope.Reply{Code: 550, Enhanced: "5.1.1", Text: strings.Join(text, "\n")}
}

// crlf turns bare LF line ends into CRLF.
func crlf(b []byte) []byte {
	n := bytes.Count(b, []byte("\n")) - bytes.Count(b, []byte("\r\n"))
	if n == 0 {
		return b
	}
	out := make([]byte, 0, len(b)+n)
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}
