package ars

// kw identifies one requirement keyword.
type kw uint8

// The keywords of the language. kwFlag1..kwFlag4 must stay consecutive:
// the flag-set digit after FLAG is added to kwFlag1.
const (
	kwLevel kw = iota
	kwAge
	kwUser
	kwUserName
	kwTime
	kwDay
	kwFlag1
	kwFlag2
	kwFlag3
	kwFlag4
	kwExempt
	kwRest
	kwSex
	kwSysop
	kwGuest
	kwQNode
	kwActive
	kwInactive
	kwDeleted
	kwHost
	kwIP
	kwProt
	kwSubCode
	kwUnix
	kwLinux
	kwWin32
	kwOS2

	// Everything below needs a terminal session, a node, user statistics
	// or a sub-board numbering that a mail server does not have.
	kwSub
	kwBPS
	kwNode
	kwTimeLeft
	kwTimeUsed
	kwPCR
	kwUDR
	kwUDFR
	kwExpire
	kwCredit
	kwANSI
	kwRIP
	kwWIP
	kwPETSCII
	kwASCII
	kwUTF8
	kwCP437
	kwLocal
	kwGroup
	kwLib
	kwDir
	kwDirCode
	kwExpert
	kwQuiet
	kwMainCmds
	kwFileCmds
	kwRandom
	kwLastOn
	kwLogons
	kwDOS
	kwShell
	kwULS
	kwULK
	kwULM
	kwDLS
	kwDLT
	kwDLK
	kwDLM
	kwTerm
	kwCols
	kwRows
	kwLang
	kwProp
	kwNull

	kwCount
)

// argKind is what a keyword takes after it.
type argKind uint8

const (
	argNone      argKind = iota // a condition on its own (SYSOP)
	argNum                      // a decimal number (LEVEL 60)
	argTime                     // hh[:mm] (TIME 19:30)
	argDay                      // 0-6 or a weekday name (DAY MON)
	argFlags                    // one or more letters A-Z (FLAG XYZ)
	argLetter                   // exactly one letter (SEX F)
	argPattern                  // a text pattern up to the next delimiter (HOST *.example.com)
	argNumOrText                // a number, or else a pattern (USER 12, USER Sysop)
)

// kwInfo describes one keyword.
type kwInfo struct {
	name      string  // how String and Unsupported spell it
	word      string  // the word that introduces it; "" when reached another way
	arg       argKind // what follows it
	max       int     // largest number accepted for argNum and argNumOrText
	supported bool    // a mail server can evaluate it
}

// Limits follow the widths Synchronet stores the numbers in: one byte for
// levels, ages and ratios, two bytes for counters and numbers.
// USER goes up to the largest user number bbsmail can hold.
const (
	maxByte = 255
	maxWord = 65535
	maxUser = 1<<32 - 1
)

var kwTable = [kwCount]kwInfo{
	kwLevel:    {name: "LEVEL", word: "LEVEL", arg: argNum, max: maxByte, supported: true},
	kwAge:      {name: "AGE", word: "AGE", arg: argNum, max: maxByte, supported: true},
	kwUser:     {name: "USER", word: "USER", arg: argNumOrText, max: maxUser, supported: true},
	kwUserName: {name: "USER", arg: argPattern, supported: true},
	kwTime:     {name: "TIME", word: "TIME", arg: argTime, supported: true},
	kwDay:      {name: "DAY", word: "DAY", arg: argDay, supported: true},
	kwFlag1:    {name: "FLAG1", word: "FLAG", arg: argFlags, supported: true},
	kwFlag2:    {name: "FLAG2", arg: argFlags, supported: true},
	kwFlag3:    {name: "FLAG3", arg: argFlags, supported: true},
	kwFlag4:    {name: "FLAG4", arg: argFlags, supported: true},
	kwExempt:   {name: "EXEMPT", word: "EXEMPT", arg: argFlags, supported: true},
	kwRest:     {name: "REST", word: "REST", arg: argFlags, supported: true},
	kwSex:      {name: "SEX", word: "SEX", arg: argLetter, supported: true},
	kwSysop:    {name: "SYSOP", word: "SYSOP", supported: true},
	kwGuest:    {name: "GUEST", word: "GUEST", supported: true},
	kwQNode:    {name: "QNODE", word: "QNODE", supported: true},
	kwActive:   {name: "ACTIVE", word: "ACTIVE", supported: true},
	kwInactive: {name: "INACTIVE", word: "INACTIVE", supported: true},
	kwDeleted:  {name: "DELETED", word: "DELETED", supported: true},
	kwHost:     {name: "HOST", word: "HOST", arg: argPattern, supported: true},
	kwIP:       {name: "IP", word: "IP", arg: argPattern, supported: true},
	kwProt:     {name: "PROT", word: "PROT", arg: argPattern, supported: true},
	kwSub:      {name: "SUB", word: "SUB", arg: argNumOrText, max: maxWord},
	kwSubCode:  {name: "SUBCODE", word: "SUBCODE", arg: argNumOrText, max: maxWord, supported: true},
	kwUnix:     {name: "UNIX", word: "UNIX", supported: true},
	kwLinux:    {name: "LINUX", word: "LINUX", supported: true},
	kwWin32:    {name: "WIN32", word: "WIN32", supported: true},
	kwOS2:      {name: "OS2", word: "OS2", supported: true},

	kwBPS:      {name: "BPS", word: "BPS", arg: argNum, max: maxWord},
	kwNode:     {name: "NODE", word: "NODE", arg: argNum, max: maxByte},
	kwTimeLeft: {name: "TLEFT", word: "TLEFT", arg: argNum, max: maxByte},
	kwTimeUsed: {name: "TUSED", word: "TUSED", arg: argNum, max: maxByte},
	kwPCR:      {name: "PCR", word: "PCR", arg: argNum, max: maxByte},
	kwUDR:      {name: "UDR", word: "UDR", arg: argNum, max: maxByte},
	kwUDFR:     {name: "UDFR", word: "UDFR", arg: argNum, max: maxByte},
	kwExpire:   {name: "EXPIRE", word: "EXPIRE", arg: argNum, max: maxWord},
	kwCredit:   {name: "CREDIT", word: "CREDIT", arg: argNum, max: maxWord},
	kwANSI:     {name: "ANSI", word: "ANSI"},
	kwRIP:      {name: "RIP", word: "RIP"},
	kwWIP:      {name: "WIP", word: "WIP"},
	kwPETSCII:  {name: "PETSCII", word: "PETSCII"},
	kwASCII:    {name: "ASCII", word: "ASCII"},
	kwUTF8:     {name: "UTF8", word: "UTF8"},
	kwCP437:    {name: "CP437", word: "CP437"},
	kwLocal:    {name: "LOCAL", word: "LOCAL"},
	kwGroup:    {name: "GROUP", word: "GROUP", arg: argNum, max: maxWord},
	kwLib:      {name: "LIB", word: "LIB", arg: argNum, max: maxWord},
	kwDir:      {name: "DIR", word: "DIR", arg: argNumOrText, max: maxWord},
	kwDirCode:  {name: "DIRCODE", word: "DIRCODE", arg: argNumOrText, max: maxWord},
	kwExpert:   {name: "EXPERT", word: "EXPERT"},
	kwQuiet:    {name: "QUIET", word: "QUIET"},
	kwMainCmds: {name: "MAIN_CMDS", word: "MAIN_CMDS", arg: argNum, max: maxWord},
	kwFileCmds: {name: "FILE_CMDS", word: "FILE_CMDS", arg: argNum, max: maxWord},
	kwRandom:   {name: "RANDOM", word: "RANDOM", arg: argNum, max: maxWord},
	kwLastOn:   {name: "LASTON", word: "LASTON", arg: argNum, max: maxWord},
	kwLogons:   {name: "LOGONS", word: "LOGONS", arg: argNum, max: maxWord},
	kwDOS:      {name: "DOS", word: "DOS"},
	kwShell:    {name: "SHELL", word: "SHELL", arg: argPattern},
	kwULS:      {name: "ULS", word: "ULS", arg: argNum, max: maxWord},
	kwULK:      {name: "ULK", word: "ULK", arg: argNum, max: maxWord},
	kwULM:      {name: "ULM", word: "ULM", arg: argNum, max: maxWord},
	kwDLS:      {name: "DLS", word: "DLS", arg: argNum, max: maxWord},
	kwDLT:      {name: "DLT", word: "DLT", arg: argNum, max: maxWord},
	kwDLK:      {name: "DLK", word: "DLK", arg: argNum, max: maxWord},
	kwDLM:      {name: "DLM", word: "DLM", arg: argNum, max: maxWord},
	kwTerm:     {name: "TERM", word: "TERM", arg: argPattern},
	kwCols:     {name: "COLS", word: "COLS", arg: argNum, max: maxByte},
	kwRows:     {name: "ROWS", word: "ROWS", arg: argNum, max: maxByte},
	kwLang:     {name: "LANG", word: "LANG", arg: argPattern},
	kwProp:     {name: "PROP", word: "PROP", arg: argPattern},
	kwNull:     {name: "NULL", word: "NULL"},
}

// shortForm maps the character after '$' to its keyword. The letters are
// Synchronet's historical one-character codes ($L60 = LEVEL 60).
func shortForm(c byte) (kw, bool) {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0*["
	codes := [len(letters)]kw{
		kwAge, kwBPS, kwCredit, kwUDFR, kwExpire, kwFlag1, kwLocal, kwSub, kwLib,
		kwDir, kwUDR, kwLevel, kwGroup, kwNode, kwTimeUsed, kwPCR, kwRandom,
		kwTimeLeft, kwSex, kwTime, kwUser, kwLogons, kwDay, kwExempt, kwLastOn,
		kwRest, kwNull, kwRIP, kwANSI,
	}
	for i := 0; i < len(letters); i++ {
		if letters[i] == upper(c) {
			return codes[i], true
		}
	}
	return 0, false
}

// textVariant names the keyword a number-or-text keyword becomes when its
// argument is not a number: USER 12 tests the user number, USER Sysop the
// alias.
func textVariant(k kw) kw {
	switch k {
	case kwUser:
		return kwUserName
	case kwSub, kwSubCode:
		return kwSubCode
	case kwDir, kwDirCode:
		return kwDirCode
	}
	return k
}

// numberVariant is the counterpart of textVariant for a numeric argument.
func numberVariant(k kw) kw {
	switch k {
	case kwSub, kwSubCode:
		return kwSub
	case kwDir, kwDirCode:
		return kwDir
	}
	return k
}

// weekdays in time.Weekday order, for DAY names.
var weekdays = [7]string{"SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY"}
