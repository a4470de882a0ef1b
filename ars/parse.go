package ars

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxDepth bounds parenthesis nesting so a hostile or broken string cannot
// exhaust the stack; real requirement strings nest two or three deep.
const maxDepth = 64

// parser reads one requirement string. Besides the position it carries the
// little state that makes the language compact:
//
//   - sticky is the keyword a bare value continues ("LEVEL 60 OR 90" means
//     LEVEL 60 OR LEVEL 90); a bare number with no keyword yet means LEVEL;
//   - expect says that keyword was just written and still needs its value;
//   - not and equal are modifiers waiting for the next value, which may come
//     before or after the keyword ("NOT LEVEL 60" = "LEVEL NOT 60").
type parser struct {
	src   string
	pos   int
	depth int

	sticky    kw
	hasSticky bool
	expect    bool
	expectCol int
	setChosen bool // FLAG's set digit has been read for the current FLAG

	not, equal bool
	modCol     int

	unsupported []string
	mixed       bool // AND and OR met without parentheses somewhere
}

// seq collects the terms of one level (the whole string or one pair of
// parentheses) with the operator written before each.
type seq struct {
	items    []node
	ors      []bool // ors[i] is true when items[i] followed an OR
	conn     string // "AND" or "OR" when an operator is waiting for its right side
	connCol  int
	connText string // that operator as written
}

func parse(src string) (*Expr, error) {
	p := &parser{src: src}
	n, err := p.parseSeq(false, 0)
	if err != nil {
		return nil, err
	}
	return &Expr{src: src, root: n, unsupported: p.unsupported, mixed: p.mixed}, nil
}

// parseSeq reads terms up to the end of the string or, when nested, up to
// the matching ')'. openCol is the column of the '(' for error messages.
func (p *parser) parseSeq(nested bool, openCol int) (node, error) {
	var s seq
	for {
		p.skipSpace()
		if p.pos >= len(p.src) {
			if err := p.termDone(); err != nil {
				return nil, err
			}
			if nested {
				return nil, p.errAt(openCol, "(", "missing )")
			}
			return s.finish(p, false, 0)
		}
		col := p.pos + 1
		var err error
		switch c := p.src[p.pos]; {
		case c == ')':
			if err = p.termDone(); err != nil {
				return nil, err
			}
			if !nested {
				return nil, p.errAt(col, ")", "unmatched )")
			}
			p.pos++
			return s.finish(p, true, col)
		case c == '|':
			p.pos++
			err = p.connect(&s, "OR", "|", col)
		case c == '&':
			p.pos++
			err = p.connect(&s, "AND", "&", col)
		case c == '!':
			p.pos++
			err = p.setNot(col)
		case c == '=':
			p.pos++
			err = p.setEqual(col)
		case isLetter(c):
			err = p.word(&s)
		case p.expect:
			err = p.readArg(&s)
		case c == '(':
			err = p.group(&s, col)
		case c == '$':
			err = p.short(&s, col)
		default:
			err = p.bareValue(&s)
		}
		if err != nil {
			return nil, err
		}
	}
}

// finish folds the collected terms into one node. Synchronet evaluates a
// requirement string from left to right and stops at the first AND whose
// left side is false or the first OR whose left side is true; that is the
// same as giving AND and OR equal precedence and grouping them to the right:
// "A AND B OR C" means A AND (B OR C).
func (s *seq) finish(p *parser, nested bool, col int) (node, error) {
	if s.conn != "" {
		return nil, p.errAt(s.connCol, s.connText, s.conn+" needs a term after it")
	}
	if len(s.items) == 0 {
		if nested {
			return nil, p.errAt(col, ")", "empty parentheses")
		}
		return nil, nil
	}
	ands, ors := false, false
	for _, or := range s.ors[1:] {
		ands, ors = ands || !or, ors || or
	}
	p.mixed = p.mixed || (ands && ors)
	n := s.items[len(s.items)-1]
	for i := len(s.items) - 2; i >= 0; i-- {
		n = &binary{or: s.ors[i+1], l: s.items[i], r: n}
	}
	return n, nil
}

func (s *seq) add(n node) {
	s.items = append(s.items, n)
	s.ors = append(s.ors, s.conn == "OR")
	s.conn = ""
}

// connect records an explicit AND or OR (spelt as written) between two
// terms.
func (p *parser) connect(s *seq, op, written string, col int) error {
	if err := p.termDone(); err != nil {
		return err
	}
	if s.conn != "" {
		return p.errAt(col, written, op+" follows "+s.conn)
	}
	if len(s.items) == 0 {
		return p.errAt(col, written, op+" needs a term before it")
	}
	s.conn, s.connCol, s.connText = op, col, written
	return nil
}

// termDone checks that nothing is left half-written before an operator, a
// parenthesis or the end of the string.
func (p *parser) termDone() error {
	if p.expect {
		info := kwTable[p.sticky]
		return p.errAt(p.expectCol, p.textAt(p.expectCol), info.name+" needs "+argDesc(info.arg))
	}
	if p.not || p.equal {
		return p.errAt(p.modCol, p.textAt(p.modCol), p.textAt(p.modCol)+" must be followed by a term")
	}
	return nil
}

// textAt is the word or the single character written at a column, to quote
// in an error about something read earlier.
func (p *parser) textAt(col int) string {
	i := col - 1
	if i < 0 || i >= len(p.src) {
		return ""
	}
	if p.src[i] == '$' && i+1 < len(p.src) {
		return p.src[i : i+2]
	}
	end := i
	for end < len(p.src) && isWordByte(p.src[end]) {
		end++
	}
	if end == i {
		end++
	}
	return p.src[i:end]
}

func (p *parser) setNot(col int) error {
	if p.not {
		return p.errAt(col, "NOT", "NOT written twice")
	}
	if !p.equal {
		p.modCol = col
	}
	p.not = true
	return nil
}

func (p *parser) setEqual(col int) error {
	if p.equal {
		return p.errAt(col, "=", "= written twice")
	}
	if !p.not {
		p.modCol = col
	}
	p.equal = true
	return nil
}

// group reads a parenthesised sub-expression; a waiting NOT applies to it.
func (p *parser) group(s *seq, col int) error {
	if p.equal {
		return p.errAt(col, "(", "= cannot apply to (")
	}
	if p.depth >= maxDepth {
		return p.errAt(col, "(", fmt.Sprintf("parentheses nested deeper than %d", maxDepth))
	}
	not := p.not
	p.not = false
	p.pos++
	p.depth++
	// A keyword does not carry into or out of parentheses, as Synchronet's
	// documentation says: in "(BPS 2400 AND PCR 20) OR 90" the 90 is a
	// level again.
	p.hasSticky = false
	n, err := p.parseSeq(true, col)
	p.hasSticky = false
	p.depth--
	if err != nil {
		return err
	}
	if not {
		n = negate(n)
	}
	s.add(n)
	return nil
}

// short reads a '$' short form such as $L (LEVEL) or $F (FLAG).
func (p *parser) short(s *seq, col int) error {
	if p.pos+1 >= len(p.src) {
		return p.errAt(col, "$", "$ needs a keyword letter after it")
	}
	k, ok := shortForm(p.src[p.pos+1])
	if !ok {
		return p.errAt(col, p.src[p.pos:p.pos+2], "unknown short form")
	}
	p.pos += 2
	return p.keyword(s, k, col)
}

// word handles a token that starts with a letter: an operator word, a
// keyword (possibly run together with its value, as in LEVEL60 or FLAG2A),
// or a value that continues the previous keyword (the B of FLAG A OR B).
func (p *parser) word(s *seq) error {
	start, col := p.pos, p.pos+1
	end := start
	for end < len(p.src) && isWordByte(p.src[end]) {
		end++
	}
	w := strings.ToUpper(p.src[start:end])
	switch {
	case w == "AND" || w == "OR":
		p.pos = end
		return p.connect(s, w, p.src[start:end], col)
	case w == "NOT":
		p.pos = end
		return p.setNot(col)
	case w == "EQUAL" || w == "EQUALS":
		p.pos = end
		return p.setEqual(col)
	case w == "TO" && p.equal:
		p.pos = end // EQUAL TO
		return nil
	}
	if p.expect {
		return p.readArg(s)
	}
	if k, n, ok := keywordPrefix(w); ok {
		p.pos = start + n
		return p.keyword(s, k, col)
	}
	if p.hasSticky && p.continues(w) {
		return p.readArg(s)
	}
	tok := p.token()
	msg := "unknown word"
	if p.hasSticky && kwTable[p.sticky].arg >= argPattern {
		msg += " (write the keyword before each text value: " + kwTable[p.sticky].name + " " + tok + ")"
	}
	return p.errAt(col, tok, msg)
}

// continues reports whether a word that is no keyword may stand for a value
// of the sticky keyword. Only single flag letters and weekday names do:
// letting any word continue a text keyword would turn a misspelt keyword
// into a silent pattern.
func (p *parser) continues(w string) bool {
	switch kwTable[p.sticky].arg {
	case argFlags, argLetter:
		return len(w) == 1
	case argDay:
		_, ok := dayNumber(w)
		return ok
	}
	return false
}

// keywordPrefix finds the keyword a word starts with. The whole word may be
// the keyword, or the keyword may run into its value (LEVEL60, FLAGA, SEXF,
// IP192): then the rest must be able to start that keyword's value, so that
// a longer unknown word (HOSTNAME, SYSOPS) is an error and not a keyword.
func keywordPrefix(w string) (kw, int, bool) {
	best, bestLen := kw(0), 0
	for k := kw(0); k < kwCount; k++ {
		info := &kwTable[k]
		if info.word == "" || len(info.word) <= bestLen || !strings.HasPrefix(w, info.word) {
			continue
		}
		if len(w) > len(info.word) && !canStartArg(k, w[len(info.word)]) {
			continue
		}
		best, bestLen = k, len(info.word)
	}
	return best, bestLen, bestLen > 0
}

// canStartArg reports whether c may begin the value of k written without a
// space after the keyword.
func canStartArg(k kw, c byte) bool {
	switch kwTable[k].arg {
	case argNum, argTime, argPattern, argNumOrText:
		return isDigit(c)
	case argDay:
		return isDigit(c) || isLetter(c)
	case argFlags:
		return isLetter(c) || (k == kwFlag1 && isDigit(c))
	case argLetter:
		return isLetter(c)
	}
	return false
}

// keyword handles a keyword just read (as a word or a short form).
func (p *parser) keyword(s *seq, k kw, col int) error {
	info := &kwTable[k]
	if info.arg != argNone {
		p.sticky, p.hasSticky = k, true
		p.expect, p.expectCol, p.setChosen = true, col, false
		return nil
	}
	if p.equal {
		return p.errAt(p.modCol, "=", "= cannot apply to "+info.name)
	}
	// A condition without a value ends any bare-value continuation, as in
	// Synchronet: "SYSOP OR 90" means SYSOP OR LEVEL 90.
	p.hasSticky = false
	s.add(p.newTerm(term{kw: k}))
	return nil
}

// bareValue handles a token that starts with a digit or another character
// outside a keyword: it continues the sticky keyword, and a number with no
// keyword before it is a security level, as in Synchronet ("60" = LEVEL 60).
func (p *parser) bareValue(s *seq) error {
	c, col := p.src[p.pos], p.pos+1
	if !p.hasSticky && isDigit(c) {
		p.sticky, p.hasSticky = kwLevel, true
	}
	if p.hasSticky {
		switch kwTable[p.sticky].arg {
		case argNum, argTime, argDay, argNumOrText:
			if isDigit(c) {
				return p.readArg(s)
			}
		case argPattern:
			if !isDelimiter(c) {
				return p.readArg(s)
			}
		}
	}
	if isDigit(c) {
		info := kwTable[p.sticky]
		return p.errAt(col, p.near(), info.name+" needs "+argDesc(info.arg))
	}
	return p.errAt(col, p.near(), "unexpected character")
}

// readArg reads the value of the sticky keyword at the current position
// and adds the resulting term (several for a run of flag letters).
func (p *parser) readArg(s *seq) error {
	k := p.sticky
	info := &kwTable[k]
	col := p.pos + 1
	switch info.arg {
	case argNum:
		n, err := p.number(info)
		if err != nil {
			return err
		}
		return p.addValue(s, term{kw: k, num: n})
	case argTime:
		return p.readTime(s)
	case argDay:
		return p.readDay(s)
	case argFlags:
		return p.readFlags(s)
	case argLetter:
		// One letter, which may run into the next term: ($SM$A21).
		c := p.src[p.pos]
		if !isLetter(c) || (p.pos+1 < len(p.src) && isWordByte(p.src[p.pos+1])) {
			return p.errAt(col, p.near(), info.name+" needs "+argDesc(info.arg))
		}
		p.pos++
		return p.addValue(s, term{kw: k, num: int(upper(c))})
	case argPattern:
		tok := p.token()
		if tok == "" {
			return p.errAt(col, p.near(), info.name+" needs "+argDesc(info.arg))
		}
		p.pos += len(tok)
		return p.addValue(s, term{kw: k, text: tok})
	case argNumOrText:
		tok := p.token()
		if tok == "" {
			return p.errAt(col, p.near(), info.name+" needs "+argDesc(info.arg))
		}
		if allDigits(tok) {
			n, err := p.number(&kwTable[numberVariant(k)])
			if err != nil {
				return err
			}
			return p.addValue(s, term{kw: numberVariant(k), num: n})
		}
		p.pos += len(tok)
		return p.addValue(s, term{kw: textVariant(k), text: tok})
	}
	return p.errAt(col, p.near(), info.name+" takes no value")
}

// number reads a decimal number no larger than info.max.
func (p *parser) number(info *kwInfo) (int, error) {
	col := p.pos + 1
	end := p.pos
	for end < len(p.src) && isDigit(p.src[end]) {
		end++
	}
	digits := p.src[p.pos:end]
	if digits == "" {
		return 0, p.errAt(col, p.near(), info.name+" needs "+argDesc(info.arg))
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n > info.max {
		return 0, p.errAt(col, digits, fmt.Sprintf("%s value is larger than %d", info.name, info.max))
	}
	p.pos = end
	return n, nil
}

// readTime reads hh or hh:mm, stored as minutes after midnight.
func (p *parser) readTime(s *seq) error {
	col := p.pos + 1
	hours := kwInfo{name: "TIME", arg: argTime, max: 23}
	h, err := p.number(&hours)
	if err != nil {
		return err
	}
	m := 0
	if p.pos < len(p.src) && p.src[p.pos] == ':' {
		p.pos++
		minutes := kwInfo{name: "TIME minute", arg: argTime, max: 59}
		if m, err = p.number(&minutes); err != nil {
			return err
		}
	}
	if p.pos < len(p.src) && isWordByte(p.src[p.pos]) {
		return p.errAt(col, p.src[col-1:p.pos+1], "TIME needs "+argDesc(argTime))
	}
	return p.addValue(s, term{kw: kwTime, num: h*60 + m})
}

// readDay reads a weekday number (0 = Sunday) or name.
func (p *parser) readDay(s *seq) error {
	col := p.pos + 1
	end := p.pos
	for end < len(p.src) && isWordByte(p.src[end]) {
		end++
	}
	tok := p.src[p.pos:end]
	d, ok := dayNumber(strings.ToUpper(tok))
	if !ok {
		return p.errAt(col, tok, "DAY needs "+argDesc(argDay))
	}
	p.pos = end
	return p.addValue(s, term{kw: kwDay, num: d})
}

// readFlags reads FLAG's optional set digit (1-4) and then a run of flag
// letters; each letter is a term of its own, joined by AND, and a waiting
// NOT or = applies to the first one only, as in Synchronet.
func (p *parser) readFlags(s *seq) error {
	k := p.sticky
	col := p.pos + 1
	c := p.src[p.pos]
	if k == kwFlag1 && p.expect && !p.setChosen && isDigit(c) {
		if c < '1' || c > '4' || (p.pos+1 < len(p.src) && isDigit(p.src[p.pos+1])) {
			return p.errAt(col, p.near(), "FLAG set must be 1, 2, 3 or 4")
		}
		p.sticky = kwFlag1 + kw(c-'1')
		p.setChosen = true
		p.pos++
		return nil
	}
	end := p.pos
	for end < len(p.src) && isLetter(p.src[end]) {
		end++
	}
	if end == p.pos || (end < len(p.src) && isWordByte(p.src[end])) {
		info := kwTable[k]
		return p.errAt(col, p.near(), info.name+" needs "+argDesc(info.arg))
	}
	for i := p.pos; i < end; i++ {
		if err := p.addValue(s, term{kw: k, num: int(upper(p.src[i]))}); err != nil {
			return err
		}
	}
	p.pos = end
	return nil
}

// addValue completes a term with the waiting modifiers and adds it.
func (p *parser) addValue(s *seq, t term) error {
	p.expect = false
	switch kwTable[t.kw].arg {
	case argNum, argDay, argFlags, argNumOrText:
		t.equal = p.equal
	}
	// For TIME, SEX and text patterns "=" changes nothing, as in Synchronet;
	// it is accepted and dropped.
	p.equal = false
	s.add(p.newTerm(t))
	return nil
}

// newTerm applies a waiting NOT and notes keywords a mail server cannot
// evaluate.
func (p *parser) newTerm(t term) *term {
	t.not, p.not = p.not, false
	info := &kwTable[t.kw]
	if !info.supported {
		seen := false
		for _, u := range p.unsupported {
			seen = seen || u == info.name
		}
		if !seen {
			p.unsupported = append(p.unsupported, info.name)
		}
	}
	return &t
}

// token is the text from the current position to the next delimiter, for
// values and error messages.
func (p *parser) token() string {
	end := p.pos
	for end < len(p.src) && !isDelimiter(p.src[end]) {
		end++
	}
	return p.src[p.pos:end]
}

// near is the text an error message quotes: the token at the current
// position, or the single character there when it is a delimiter.
func (p *parser) near() string {
	if tok := p.token(); tok != "" {
		return tok
	}
	if p.pos >= len(p.src) {
		return ""
	}
	_, size := utf8.DecodeRuneInString(p.src[p.pos:])
	return p.src[p.pos : p.pos+size]
}

func (p *parser) skipSpace() {
	for p.pos < len(p.src) && isSpace(p.src[p.pos]) {
		p.pos++
	}
}

func (p *parser) errAt(col int, near, msg string) error {
	return &SyntaxError{Column: col, Near: near, Msg: msg}
}

// dayNumber accepts 0-6 or an unambiguous start of a weekday name.
func dayNumber(w string) (int, bool) {
	if allDigits(w) && w != "" {
		n, err := strconv.Atoi(w)
		return n, err == nil && n <= 6
	}
	found := -1
	for i, name := range weekdays {
		if w != "" && strings.HasPrefix(name, w) {
			if found >= 0 {
				return 0, false // S or T alone
			}
			found = i
		}
	}
	return found, found >= 0
}

func argDesc(a argKind) string {
	switch a {
	case argNum:
		return "a number"
	case argTime:
		return "a time of day (hh or hh:mm)"
	case argDay:
		return "a weekday (0-6 or a name such as MON)"
	case argFlags:
		return "a flag letter (A-Z)"
	case argLetter:
		return "one letter"
	case argPattern:
		return "a text value"
	case argNumOrText:
		return "a number or a name"
	}
	return "no value"
}

func isLetter(c byte) bool   { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }
func isDigit(c byte) bool    { return c >= '0' && c <= '9' }
func isSpace(c byte) bool    { return c == ' ' || c == '\t' }
func isWordByte(c byte) bool { return isLetter(c) || isDigit(c) || c == '_' }

// isDelimiter ends a value. '!' is not one: it only means NOT where a term
// may start, so "HOST a!b" is a pattern.
func isDelimiter(c byte) bool {
	switch c {
	case ' ', '\t', '(', ')', '=', '|', '&':
		return true
	}
	return false
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}
