package pop3d

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// command is one parsed client line.
type command struct {
	// Verb is the keyword, upper-cased.
	Verb string
	// Arg is everything after the first space, as sent. PASS takes it whole
	// because RFC 1939 §7 allows spaces in passwords, and BBS aliases may
	// contain spaces too.
	Arg string
}

var (
	errEmptyLine   = errors.New("empty command line")
	errBadKeyword  = errors.New("malformed keyword")
	errLineTooLong = errors.New("command line too long")
)

// parseCommand splits a line (without CRLF) into keyword and argument.
// Keywords are 3 or 4 letters (RFC 1939 §3), matched case-insensitively.
// Control characters anywhere in the line make it malformed.
func parseCommand(line string) (command, error) {
	if line == "" {
		return command{}, errEmptyLine
	}
	for i := 0; i < len(line); i++ {
		if c := line[i]; c < ' ' && c != '\t' || c == 0x7f {
			return command{}, errBadKeyword
		}
	}
	verb, arg, _ := strings.Cut(line, " ")
	if len(verb) < 3 || len(verb) > 4 {
		return command{}, errBadKeyword
	}
	for i := 0; i < len(verb); i++ {
		c := verb[i] | 0x20
		if c < 'a' || c > 'z' {
			return command{}, errBadKeyword
		}
	}
	return command{Verb: strings.ToUpper(verb), Arg: arg}, nil
}

// parseNumber parses a message number or line count: decimal digits only.
func parseNumber(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// readLine reads one line of at most maxLine octets including the line end.
// A longer line is consumed up to its end and reported as errLineTooLong, so
// the session stays in step with the client. A bare LF ends a line too.
func readLine(r *bufio.Reader) (string, error) {
	var buf []byte
	tooLong := false
	for {
		chunk, err := r.ReadSlice('\n')
		if !tooLong {
			buf = append(buf, chunk...)
			if len(buf) > maxLine {
				tooLong, buf = true, nil
			}
		}
		switch {
		case err == nil:
			if tooLong {
				return "", errLineTooLong
			}
			return strings.TrimRight(string(buf), "\r\n"), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return "", err
		}
	}
}

// replyError is a refusal the client sees as "-ERR <Text>". Handlers return
// it; session.reply is the one place that turns errors into reply lines.
type replyError struct {
	Text string
	// Bad counts the command toward MaxBadCommands.
	Bad bool
	// Close ends the session after the reply.
	Close bool
	// Err is the failure behind the reply, for the log only.
	Err error
}

func (e *replyError) Error() string { return "-ERR " + e.Text }

func refuse(format string, args ...any) *replyError {
	return &replyError{Text: fmt.Sprintf(format, args...)}
}

func badCommand(format string, args ...any) *replyError {
	return &replyError{Text: fmt.Sprintf(format, args...), Bad: true}
}

// appendBody appends data as an RFC 1939 §3 multi-line response body and
// its terminating line to dst: a '.' is doubled at the start of every
// line, a CRLF is added when data does not end with a line break, then
// the lone ".". The octets are otherwise passed on unchanged, so the client
// receives exactly Message.Size octets after un-stuffing.
func appendBody(dst, data []byte) []byte {
	end := ".\r\n"
	if len(data) > 0 && data[len(data)-1] != '\n' {
		end = "\r\n.\r\n"
	}
	if len(data) > 0 && data[0] == '.' {
		dst = append(dst, '.')
	}
	for {
		i := bytes.Index(data, dotAfterLF)
		if i < 0 {
			break
		}
		dst = append(append(dst, data[:i+1]...), '.')
		data = data[i+1:]
	}
	return append(append(dst, data...), end...)
}

var dotAfterLF = []byte("\n.")
