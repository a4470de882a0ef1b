package ini

import (
	"fmt"
	"strings"
)

// KeyError is a configuration problem that stops startup, in the form
// sysops read in every bbsmail message about their files: the file
// (relative to the control directory when inside it), the line and, where
// there is one, the section and key:
//
//	sbbs.ini:185: [Mail] MaxInactivity: invalid duration "2x"
//
// ctrl.Error and mailproc.Error are this type.
type KeyError struct {
	File    string
	Line    int // 0 when the problem is not on one line
	Section string
	Key     string
	Err     error
}

func (e *KeyError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(":")
	if e.Section != "" {
		fmt.Fprintf(&b, " [%s]", e.Section)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, " %s", e.Key)
	}
	if e.Section != "" || e.Key != "" {
		b.WriteString(":")
	}
	fmt.Fprintf(&b, " %v", e.Err)
	return b.String()
}

func (e *KeyError) Unwrap() error { return e.Err }
