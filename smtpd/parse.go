package smtpd

import (
	"errors"
	"strconv"
	"strings"

	"github.com/bbsmail/bbsmail/envelope"
)

// parseCommand splits a command line into its upper-cased verb and the
// argument after the first space (RFC 5321 §4.1.1). ok is false for a verb
// holding any control character ("EH\0LO" is not EHLO) and for NUL in the
// argument of any other command. The arguments of MAIL, SEND, SOML, SAML
// and RCPT keep their control characters so that parseMailArg refuses the
// path with its own reply; other arguments have them dropped, as they have
// no place in SMTP and would reach headers and logs.
// When ok is false, verb is still the verb without its control characters,
// so that the logs hide the credentials of a refused "AUTH\x01 PLAIN ...".
func parseCommand(line string) (verb, arg string, ok bool) {
	verb, arg, _ = strings.Cut(line, " ")
	ok = strings.IndexFunc(verb, isCtl) < 0
	verb = strings.ToUpper(cleanArg(verb))
	switch verb {
	case "MAIL", "SEND", "SOML", "SAML", "RCPT":
	default:
		ok = ok && strings.IndexByte(arg, 0) < 0
		arg = cleanArg(arg)
	}
	return verb, strings.TrimSpace(arg), ok
}

// Errors of parseMailArg, each with its own reply.
var (
	errNoPrefix    = errors.New("missing FROM or TO keyword")
	errBadPath     = errors.New("bad path")
	errBadParams   = errors.New("bad parameters")
	errUnknownParm = errors.New("unsupported parameter")
)

// mailArgs is a parsed MAIL FROM: (or SEND/SOML/SAML FROM:) argument.
type mailArgs struct {
	path string
	size int64 // SIZE= (RFC 1870), 0 when absent
}

// parseMailArg parses "FROM:<path> params" (prefix "FROM:") or
// "TO:<path> params" (prefix "TO:"). Known parameters are SIZE (RFC 1870),
// BODY (RFC 6152) and AUTH (RFC 4954 §5, accepted and ignored) for MAIL;
// RCPT takes none because no extension that defines one is offered.
func parseMailArg(arg, prefix string) (mailArgs, error) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return mailArgs{}, errNoPrefix
	}
	path, params, err := envelope.ParsePath(arg[len(prefix):])
	if err != nil {
		return mailArgs{}, errBadPath
	}
	if strings.IndexFunc(params, isCtl) >= 0 {
		return mailArgs{}, errBadParams
	}
	var m mailArgs
	m.path = path
	kv, err := envelope.ParseParams(params)
	if err != nil {
		return mailArgs{}, errBadParams
	}
	for k, v := range kv {
		if prefix != "FROM:" {
			return mailArgs{}, errUnknownParm
		}
		switch k {
		case "SIZE":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return mailArgs{}, errBadParams
			}
			m.size = n
		case "BODY":
			if !strings.EqualFold(v, "7BIT") && !strings.EqualFold(v, "8BITMIME") {
				return mailArgs{}, errBadParams
			}
		case "AUTH":
		default:
			return mailArgs{}, errUnknownParm
		}
	}
	return m, nil
}
