package admin

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/bbsmail/bbsmail/store"
)

// userImport copies the users of a Synchronet user base into the mailbase,
// keeping their numbers. It can run again: a number already present is
// reported and left alone.
func userImport(_ context.Context, env Env, args []string, sio stdio) error {
	fs := flag.NewFlagSet("user import", flag.ContinueOnError)
	dry := fs.Bool("dry-run", false, "read and check the user base, change nothing")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 1, "PATH (user.tab, user.dat, or the data/ or data/user/ directory holding one)"); err != nil {
		return err
	}
	path, users, err := readUserBase(pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(sio.out, "%s: %d user records\n", path, len(users))
	var done, skipped int
	for _, su := range users {
		u, pw := su.toUser()
		if u.Alias == "" {
			continue // an unused slot
		}
		why := importOne(env.DB, u, pw, *dry)
		if why != "" {
			skipped++
			fmt.Fprintf(sio.out, "#%d %s: skipped: %s\n", u.Number, u.Alias, why)
			continue
		}
		done++
		fmt.Fprintf(sio.out, "#%d %s: %s\n", u.Number, u.Alias, importState(u, *dry))
	}
	verb := "imported"
	if *dry {
		verb = "would be imported (dry run: nothing changed)"
	}
	fmt.Fprintf(sio.out, "%d users %s, %d skipped\n", done, verb, skipped)
	return nil
}

func importState(u store.User, dry bool) string {
	s := "imported"
	if dry {
		s = "would be imported"
	}
	switch {
	case u.Deleted:
		s += " (deleted: keeps its number, cannot log in or receive mail)"
	case u.Inactive:
		s += " (inactive)"
	}
	return s
}

// importOne stores u, or in a dry run checks that it could be; it returns
// why not, or "".
func importOne(db *store.DB, u store.User, pw string, dry bool) string {
	if old, err := db.User(u.Number); err == nil {
		if store.AliasKey(old.Alias) == store.AliasKey(u.Alias) {
			return "already in the mailbase"
		}
		return fmt.Sprintf("number taken by %q in the mailbase", old.Alias)
	}
	if !u.Deleted {
		if other, err := db.UserByAlias(u.Alias); err == nil {
			return fmt.Sprintf("alias already used by #%d", other.Number)
		}
	}
	if err := store.CheckUser(u); err != nil {
		return err.Error()
	}
	if dry {
		return ""
	}
	if err := db.ImportUser(u, pw); err != nil {
		return err.Error()
	}
	return ""
}

// toUser maps a Synchronet record onto a mailbase user. The password
// (plain text in Synchronet's files) is returned apart: the store keeps only
// its hash and the sealed copy.
func (su sbbsUser) toUser() (store.User, string) {
	u := store.User{
		Number:    su.number,
		Alias:     su.alias,
		RealName:  su.name,
		NetMail:   su.netmail,
		Level:     min(max(su.level, 0), store.MaxLevel),
		Flags1:    letters(su.flags1),
		Deleted:   su.misc&miscDeleted != 0,
		Inactive:  su.misc&miscInactive != 0,
		Forward:   su.misc&miscNetmail != 0 && su.netmail != "",
		ExemptW:   hasFlag(su.exempt, 'W'),
		ExemptM:   hasFlag(su.exempt, 'M'),
		RestrictI: hasFlag(su.rest, 'I'),
		RestrictM: hasFlag(su.rest, 'M'),
		RestrictG: hasFlag(su.rest, 'G'),
	}
	return u, su.pass
}

// readUserBase finds and parses the user base at path: a user.tab or
// user.dat file, or a directory holding one (data/ or data/user/).
func readUserBase(path string) (string, []sbbsUser, error) {
	if !filepath.IsAbs(path) {
		return "", nil, usagef("PATH must be absolute (the command line makes it so): %s", path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", nil, fmt.Errorf("cannot read the user base: %w", err)
	}
	if fi.IsDir() {
		found := ""
		for _, c := range []string{"user.tab", "user/user.tab", "user.dat", "user/user.dat"} {
			if _, err := os.Stat(filepath.Join(path, c)); err == nil {
				found = filepath.Join(path, c)
				break
			}
		}
		if found == "" {
			return "", nil, fmt.Errorf("no user.tab or user.dat in %s or %s: %w", path, filepath.Join(path, "user"), fs.ErrNotExist)
		}
		path = found
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", nil, fmt.Errorf("cannot read the user base: %w", err)
	}
	var users []sbbsUser
	if filepath.Ext(path) == ".dat" {
		users, err = parseUserDat(data)
	} else {
		users, err = parseUserTab(data)
	}
	return path, users, err
}
