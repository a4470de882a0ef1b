package ctrl

import (
	"fmt"
	"strings"
)

// Error is a configuration problem that stops startup. It names the file
// (relative to the control directory when inside it), the line and, where
// there is one, the section and key:
//
//	sbbs.ini:185: [Mail] MaxInactivity: invalid duration "2x"
type Error struct {
	File    string
	Line    int // 0 when the problem is not on one line
	Section string
	Key     string
	Err     error
}

func (e *Error) Error() string {
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

func (e *Error) Unwrap() error { return e.Err }
