package mailproc

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/bbsmail/bbsmail/envelope"
)

// Limits on what a processing error (.err) file can make the server say:
// RFC 5321 §4.5.3.1.5 caps a reply line at 512 octets with its CRLF, and a
// client needs no more than a screenful of reasons.
const (
	maxRejectLines = 20
	maxRejectText  = 400
)

// parseRejection builds the reply a processor asked for by writing a
// processing error (.err) file: every non-blank line of it, without its
// codes and control characters, under one reply code, so that the client
// reads one multi-line reply (RFC 5321 §4.2.1). The code is that of the
// file's first line that starts with a 2xx, 4xx or 5xx code, else 554;
// the enhanced code the first one the file gives in the reply's class,
// else 5.7.1 for a 554 and x.0.0 for any other class. Synchronet Synchronet
// sends a line that begins with a code from 100 to 999 as it is and every
// other line as "554-text" / "554 text", so a file that mixes both, or ends
// with a coded line written with '-', leaves the client reading a broken
// reply. Here the whole reply carries one code and only the last line ends
// the reply. Codes that cannot end a DATA transaction (1xx, 3xx, 6xx and
// above) are kept as text under 554.
func parseRejection(data []byte) *envelope.Reply {
	r := &envelope.Reply{}
	var text []string
	for raw := range strings.SplitSeq(string(data), "\n") {
		line := strings.TrimSpace(clean(strings.TrimRight(raw, "\r")))
		if line == "" {
			continue
		}
		code, rest := splitCode(line)
		if code != 0 {
			if r.Code == 0 {
				r.Code = code
			}
			line = rest
			if enh, after := splitEnhanced(line); enh != "" {
				if r.Enhanced == "" && enh[0] == byte('0'+r.Code/100) {
					r.Enhanced = enh
				}
				line = after
			}
		}
		if len(text) == maxRejectLines {
			break
		}
		if len(line) > maxRejectText {
			line = line[:maxRejectText]
		}
		text = append(text, line)
	}
	if r.Code == 0 {
		r.Code = 554
	}
	if len(text) == 0 {
		text = []string{"Message rejected"}
	}
	r.Text = strings.Join(text, "\n")
	if r.Enhanced == "" {
		if r.Code == 554 {
			r.Enhanced = "5.7.1"
		} else {
			r.Enhanced = fmt.Sprintf("%d.0.0", r.Code/100)
		}
	}
	return r
}

// splitCode reads a leading reply code usable at the end of DATA (2xx,
// 4xx, 5xx) followed by a space, a '-' or nothing.
func splitCode(line string) (int, string) {
	if len(line) < 3 || (len(line) > 3 && line[3] != ' ' && line[3] != '-') {
		return 0, line
	}
	n, err := strconv.Atoi(line[:3])
	if err != nil || n < 100 {
		return 0, line
	}
	if c := n / 100; c != 2 && c != 4 && c != 5 {
		return 0, line
	}
	if len(line) == 3 {
		return n, ""
	}
	return n, strings.TrimSpace(line[4:])
}

// splitEnhanced reads a leading RFC 3463 code (class.subject.detail).
func splitEnhanced(s string) (string, string) {
	word, rest, _ := strings.Cut(s, " ")
	parts := strings.Split(word, ".")
	if len(parts) != 3 || len(parts[0]) != 1 || strings.IndexByte("245", parts[0][0]) < 0 {
		return "", s
	}
	for _, p := range parts[1:] {
		if len(p) == 0 || len(p) > 3 {
			return "", s
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return "", s
			}
		}
	}
	return word, strings.TrimSpace(rest)
}
