package mailproc

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/dop251/goja"
)

// checkScripts finds and compiles the script of each enabled JavaScript
// processor, so that a missing or broken one is reported when the file is
// loaded (at startup, on a reload, by bbsmail check) rather than
// discovered on the first message it should have handled. A processor
// with a problem still loads: a sysop may be fixing its script, and it
// fails per message as before (451 when it would have taken the message).
func (s *Set) checkScripts() []Warning {
	var warns []Warning
	vals := s.specValues(&files{}, &Input{Env: &envelope.Envelope{}})
	for i := range s.procs {
		p := &s.procs[i]
		if p.Native || p.Disabled {
			continue
		}
		msg := s.scriptProblem(p, vals)
		if msg == "" {
			continue
		}
		w := Warning{File: p.File, Line: p.Line, Section: p.Name, Msg: msg}
		if p.cmdLine > 0 {
			w.Line, w.Key = p.cmdLine, p.cmdKey
		}
		warns = append(warns, w)
	}
	return warns
}

// scriptProblem says what is wrong with a processor's script, "" when it
// is found and compiles.
func (s *Set) scriptProblem(p *Processor, vals *specValues) string {
	name, _, src, _, err := s.jsSource(p, expandWords(p.Command, vals))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Sprintf("script %s not found%s: the processor fails on every message", scriptName(p, vals), s.lookedIn(p))
	}
	if err != nil {
		return fmt.Sprintf("script %s cannot be read: %v", scriptName(p, vals), err)
	}
	if _, err := goja.Compile(name, src, false); err != nil {
		return fmt.Sprintf("script %s does not compile: %s", name, strings.Join(strings.Fields(err.Error()), " "))
	}
	if strings.Contains(src, "MsgBase") {
		for _, m := range unsupportedMsgBase {
			if strings.Contains(src, "."+m+"(") {
				return fmt.Sprintf("script %s uses MsgBase.%s, which bbsmail's sub-boards cannot carry: "+
					"mail it handles when it gets there is refused (550)", name, m)
			}
		}
	}
	return ""
}

// scriptName is the first word of the command line, expanded.
func scriptName(p *Processor, vals *specValues) string {
	if w := expandWords(p.Command, vals); len(w) > 0 {
		return w[0]
	}
	return "(none)"
}

// lookedIn names the directories a script without a directory is looked
// for in.
func (s *Set) lookedIn(p *Processor) string {
	w := strings.Fields(p.Command)
	if len(w) == 0 || strings.ContainsAny(w[0], `/\%`) {
		return ""
	}
	dirs := []string{}
	if s.cfg.ModsDir != "" {
		dirs = append(dirs, dirSlash(s.cfg.ModsDir))
	}
	dirs = append(dirs, dirSlash(s.cfg.ExecDir))
	return " in " + strings.Join(dirs, " or ")
}
