package ctrl

import "github.com/bbsmail/bbsmail/ctrl/ini"

// Error is a configuration problem that stops startup. It names the file
// (relative to the control directory when inside it), the line and, where
// there is one, the section and key:
//
//	sbbs.ini:185: [Mail] MaxInactivity: invalid duration "2x"
type Error = ini.KeyError
