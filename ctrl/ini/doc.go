// Package ini reads Synchronet-style ini files (ctrl/sbbs.ini, main.ini,
// msgs.ini, mailproc.ini) and records where every key came from, so a bad
// value can be reported as "file:line: [section] key: ...".
//
// The dialect is the one of Synchronet's xpdev ini_file.c:
//   - section and key names are case-insensitive; text after the closing
//     ']' of a section header is a description and is ignored;
//   - ';' starts a comment only at the beginning of a line, so
//     "Password = abc;123" keeps its semicolon;
//   - "name = value" keeps the trimmed value as written; the literal form
//     "name : value" strips surrounding quotes and decodes C escapes;
//   - the first of duplicate keys wins, and the first of duplicate sections;
//   - "!include file" splices in another file (relative to the including
//     one) and "!eof" ends the current file;
//   - a UTF-8 BOM, CRLF line endings and indentation are accepted.
//
// It deliberately knows nothing about value types: sizes, durations and
// option lists are parsed by package ctrl, which owns their meaning. It
// imports the standard library only. No RFC governs this format.
package ini
