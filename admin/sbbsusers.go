package admin

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/bbsmail/bbsmail/ftn"
)

// This file reads Synchronet's user bases: data/user/user.tab (v3.20 and
// later: one 1000-byte line per user, tab-separated fields in the order of
// Synchronet's src/sbbs3/userfields.h) and the older data/user/user.dat
// (fixed-width 834-byte records, the layout of v3.19's sbbsdefs.h). The
// position of a record gives the user number in both.

// sbbsUser is what bbsmail takes from one record.
type sbbsUser struct {
	number  uint32
	alias   string
	name    string // real name
	netmail string
	pass    string
	level   int
	misc    uint32 // user.misc bits: DELETED, INACTIVE, NETMAIL
	flags1  uint32 // flag set 1, bit 0 = A
	exempt  uint32
	rest    uint32
}

// Bits of Synchronet's user.misc that matter here (sbbsdefs.h).
const (
	miscDeleted  = 1 << 0
	miscInactive = 1 << 6
	miscNetmail  = 1 << 12 // forward e-mail to the netmail address
)

const (
	tabRecordLen = 1000 // user.tab: 999 bytes and a LF
	datRecordLen = 834  // user.dat of v3.19 and earlier
)

// Field indexes of user.tab (userfields.h; Synchronet only appends).
const (
	tabAlias   = 1
	tabName    = 2
	tabNetmail = 7
	tabMisc    = 16
	tabPass    = 47
	tabLevel   = 49
	tabFlags1  = 50
	tabExempt  = 54
	tabRest    = 55
)

// Offsets and lengths in a user.dat record (v3.19's U_* defines).
type datField struct{ off, n int }

var (
	datAlias   = datField{0, 25}
	datName    = datField{25, 25}
	datNetmail = datField{184, 60}
	datOldPass = datField{318, 8}
	datLevel   = datField{497, 2}
	datFlags1  = datField{499, 8}
	datExempt  = datField{517, 8}
	datRest    = datField{525, 8}
	datMisc    = datField{538, 8}
	datPass    = datField{610, 40}
)

var errUserBase = errors.New("not a Synchronet user base")

// parseUserTab reads user.tab.
func parseUserTab(data []byte) ([]sbbsUser, error) {
	if len(data)%tabRecordLen != 0 && !bytes.HasSuffix(data, []byte("\n")) {
		return nil, fmt.Errorf("user.tab: %d bytes, not whole %d-byte records: %w", len(data), tabRecordLen, errUserBase)
	}
	var users []sbbsUser
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	for i, line := range lines {
		f := strings.Split(ftn.CP437.Decode(line), "\t")
		if len(f) <= tabRest {
			if strings.Trim(string(line), "\t\x00 ") == "" {
				continue // a never-used slot
			}
			return nil, fmt.Errorf("user.tab record %d: %d fields, want at least %d: %w", i+1, len(f), tabRest+1, errUserBase)
		}
		users = append(users, sbbsUser{
			number:  uint32(i + 1),
			alias:   f[tabAlias],
			name:    f[tabName],
			netmail: f[tabNetmail],
			pass:    f[tabPass],
			level:   atoiDefault(f[tabLevel]),
			misc:    hexBits(f[tabMisc]),
			flags1:  letterBits(f[tabFlags1]),
			exempt:  letterBits(f[tabExempt]),
			rest:    letterBits(f[tabRest]),
		})
	}
	return users, nil
}

// parseUserDat reads the fixed-width user.dat of Synchronet 3.19 and
// earlier, where the flag sets are hexadecimal.
func parseUserDat(data []byte) ([]sbbsUser, error) {
	if len(data)%datRecordLen != 0 {
		return nil, fmt.Errorf("user.dat: %d bytes, not whole %d-byte records: %w", len(data), datRecordLen, errUserBase)
	}
	var users []sbbsUser
	for i := 0; i*datRecordLen < len(data); i++ {
		rec := data[i*datRecordLen : (i+1)*datRecordLen]
		get := func(f datField) string { return datString(rec, f) }
		pass := get(datPass)
		if pass == "" {
			pass = get(datOldPass) // records from before LEN_PASS grew
		}
		users = append(users, sbbsUser{
			number:  uint32(i + 1),
			alias:   get(datAlias),
			name:    get(datName),
			netmail: get(datNetmail),
			pass:    pass,
			level:   atoiDefault(get(datLevel)),
			misc:    hexBits(get(datMisc)),
			flags1:  hexBits(get(datFlags1)),
			exempt:  hexBits(get(datExempt)),
			rest:    hexBits(get(datRest)),
		})
	}
	return users, nil
}

// datString is a field of a user.dat record: it ends at ETX, CR or LF.
func datString(rec []byte, f datField) string {
	b := rec[f.off : f.off+f.n]
	if i := bytes.IndexAny(b, "\x03\r\n\x00"); i >= 0 {
		b = b[:i]
	}
	return strings.TrimSpace(ftn.CP437.Decode(b))
}

func atoiDefault(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0
	}
	return n
}

func hexBits(s string) uint32 {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 16, 32)
	if err != nil {
		return 0
	}
	return uint32(n)
}

// letterBits reads a flag set written as letters ("AMZ"), as Synchronet's
// aftou32 does: A is bit 0; anything else is ignored.
func letterBits(s string) uint32 {
	var bits uint32
	for _, c := range strings.ToUpper(s) {
		if c >= 'A' && c <= 'Z' {
			bits |= 1 << (c - 'A')
		}
	}
	return bits
}

// letters writes a flag set as its letters, A to Z.
func letters(bits uint32) string {
	var b strings.Builder
	for i := range 26 {
		if bits&(1<<i) != 0 {
			b.WriteByte(byte('A' + i))
		}
	}
	return b.String()
}

func hasFlag(bits uint32, letter byte) bool { return bits&(1<<(letter-'A')) != 0 }
