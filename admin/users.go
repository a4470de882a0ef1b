package admin

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"

	"github.com/bbsmail/bbsmail/store"
)

func userAdd(_ context.Context, env Env, args []string, sio stdio) error {
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	pw := fs.String("password", "", "password, or - to read it from standard input")
	real := fs.String("realname", "", "real name")
	netmail := fs.String("netmail", "", "netmail/forwarding address")
	level := fs.Int("level", defaultLevel, "security level (default: the sysop's 90 while the user base has no sysop, else 10)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 1, "ALIAS"); err != nil {
		return err
	}
	if err := checkNewAlias(pos[0]); err != nil {
		return err
	}
	if *level < 0 || *level > store.MaxLevel {
		return usagef("level must be 0-%d", store.MaxLevel)
	}
	password, err := readPassword(*pw, flagSet(fs, "password"), sio)
	if err != nil {
		return err
	}
	u := store.User{Alias: pos[0], RealName: *real, NetMail: *netmail, Level: *level}
	var n uint32
	sysop := false
	if flagSet(fs, "level") {
		n, err = env.DB.AddUser(u, password)
	} else {
		n, sysop, err = env.DB.AddUserOrSysop(u, password)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(sio.out, n)
	if sysop {
		// On standard error: standard output stays the bare number that
		// scripts read.
		fmt.Fprintf(sio.err, "user #%d %s has the sysop's level %d: the user base had no sysop (no user of level %d or more); --level sets another\n",
			n, u.Alias, store.SysopLevel, store.SysopLevel)
	}
	return nil
}

// defaultLevel is the level of a new user who is not the first sysop:
// Synchronet's default new-user level.
const defaultLevel = 10

// maxAlias is Synchronet's LEN_ALIAS.
const maxAlias = 25

// checkNewAlias applies Synchronet's rules for a new user name (its
// check_name): at most 25 characters, beginning with a letter, no control
// characters, no space at either end or twice in a row, and no '@' (the
// name must work as the local part of an address).
func checkNewAlias(a string) error {
	switch {
	case a == "":
		return usagef("empty alias")
	case utf8.RuneCountInString(a) > maxAlias:
		return usagef("alias %q is longer than %d characters", a, maxAlias)
	case !unicode.IsLetter([]rune(a)[0]):
		return usagef("alias %q must begin with a letter", a)
	case strings.ContainsFunc(a, unicode.IsControl), strings.ContainsRune(a, '\xff'):
		return usagef("alias %q holds control characters", a)
	case strings.TrimSpace(a) != a, strings.Contains(a, "  "):
		return usagef("alias %q has a space at an end or two in a row", a)
	case strings.ContainsRune(a, '@'):
		return usagef("alias %q holds '@'", a)
	}
	return nil
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

func userList(_ context.Context, env Env, args []string, sio stdio) error {
	fs := flag.NewFlagSet("user list", flag.ContinueOnError)
	all := fs.Bool("all", false, "include deleted users")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	users, err := env.DB.Users()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(sio.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tALIAS\tREAL NAME\tNETMAIL\tLEVEL\tFLAGS")
	for _, u := range users {
		if u.Deleted && !*all {
			continue
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\n", u.Number, u.Alias, u.RealName, u.NetMail, u.Level, userFlags(u))
	}
	return tw.Flush()
}

func userFlags(u store.User) string {
	var f []string
	add := func(on bool, s string) {
		if on {
			f = append(f, s)
		}
	}
	add(u.Deleted, "deleted")
	add(u.Inactive, "inactive")
	add(u.Forward, "forward")
	add(u.ExemptW, "exempt-w")
	add(u.RestrictI, "restrict-i")
	add(u.RestrictM, "restrict-m")
	add(u.RestrictG, "restrict-g")
	add(u.Online, "online")
	if len(f) == 0 {
		return "-"
	}
	return strings.Join(f, ",")
}

func userPasswd(_ context.Context, env Env, args []string, sio stdio) error {
	fs := flag.NewFlagSet("user passwd", flag.ContinueOnError)
	pw := fs.String("password", "", "new password, or - to read it from standard input")
	u, _, err := userLine(env, fs, args, 1, "ALIAS")
	if err != nil {
		return err
	}
	password, err := readPassword(*pw, flagSet(fs, "password"), sio)
	if err != nil {
		return err
	}
	if err := env.DB.SetPassword(u.Number, password); err != nil {
		return err
	}
	fmt.Fprintf(sio.out, "password of #%d %s changed\n", u.Number, u.Alias)
	return nil
}

func userDel(_ context.Context, env Env, args []string, sio stdio) error {
	u, _, err := userLine(env, flag.NewFlagSet("user del", flag.ContinueOnError), args, 1, "ALIAS")
	if err != nil {
		return err
	}
	if err := env.DB.DeleteUser(u.Number); err != nil {
		return err
	}
	fmt.Fprintf(sio.out, "user #%d %s deleted\n", u.Number, u.Alias)
	return nil
}

// optBool is a tri-state boolean flag: unset, true or false.
type optBool struct {
	set, val bool
}

func (b *optBool) String() string { return strconv.FormatBool(b.val) }
func (b *optBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	b.set, b.val = true, v
	return nil
}
func (b *optBool) IsBoolFlag() bool { return true }

type optString struct {
	set bool
	val string
}

func (s *optString) String() string     { return s.val }
func (s *optString) Set(v string) error { s.set, s.val = true, v; return nil }

func userSet(_ context.Context, env Env, args []string, sio stdio) error {
	fs := flag.NewFlagSet("user set", flag.ContinueOnError)
	var realName, netmail, alias optString
	var forward, exemptW, inactive, restrictI, restrictM, restrictG optBool
	level := fs.Int("level", -1, "security level (0-99)")
	fs.Var(&alias, "alias", "new alias")
	fs.Var(&realName, "realname", "real name")
	fs.Var(&netmail, "netmail", "netmail/forwarding address")
	fs.Var(&forward, "forward", "forward mail to the netmail address")
	fs.Var(&exemptW, "exempt-w", "exempt from MaxMsgsWaiting")
	fs.Var(&inactive, "inactive", "account inactive")
	fs.Var(&restrictI, "restrict-i", "restriction I: closed mailbox for unauthenticated senders")
	fs.Var(&restrictM, "restrict-m", "restriction M: no relaying")
	fs.Var(&restrictG, "restrict-g", "restriction G: no relaying")
	u, _, err := userLine(env, fs, args, 1, "ALIAS")
	if err != nil {
		return err
	}
	if *level > 99 || (*level < 0 && *level != -1) {
		return usagef("level must be 0-99")
	}
	if alias.set {
		if err := checkNewAlias(alias.val); err != nil {
			return err
		}
	}
	err = env.DB.UpdateUser(u.Number, func(u *store.User) error {
		if alias.set {
			u.Alias = alias.val
		}
		if realName.set {
			u.RealName = realName.val
		}
		if netmail.set {
			u.NetMail = netmail.val
		}
		setBool(&u.Forward, forward)
		setBool(&u.ExemptW, exemptW)
		setBool(&u.Inactive, inactive)
		setBool(&u.RestrictI, restrictI)
		setBool(&u.RestrictM, restrictM)
		setBool(&u.RestrictG, restrictG)
		if *level >= 0 {
			u.Level = *level
		}
		return nil
	})
	if err != nil {
		return err
	}
	u, err = env.DB.User(u.Number)
	if err != nil {
		return err
	}
	fmt.Fprintf(sio.out, "#%d %s: realname=%q netmail=%q level=%d flags=%s\n", u.Number, u.Alias, u.RealName, u.NetMail, u.Level, userFlags(u))
	return nil
}

func setBool(dst *bool, b optBool) {
	if b.set {
		*dst = b.val
	}
}

func userOnline(_ context.Context, env Env, args []string, sio stdio) error {
	u, pos, err := userLine(env, flag.NewFlagSet("user online", flag.ContinueOnError), args, 2, "ALIAS on|off")
	if err != nil {
		return err
	}
	var on bool
	switch strings.ToLower(pos[1]) {
	case "on", "true", "yes", "1":
		on = true
	case "off", "false", "no", "0":
	default:
		return usagef("want on or off, not %q", pos[1])
	}
	if err := env.DB.UpdateUser(u.Number, func(u *store.User) error { u.Online = on; return nil }); err != nil {
		return err
	}
	fmt.Fprintf(sio.out, "#%d %s is %s\n", u.Number, u.Alias, map[bool]string{true: "online", false: "offline"}[on])
	return nil
}
