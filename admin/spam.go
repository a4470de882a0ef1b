package admin

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"
)

// spamList prints the spam hash database: one line per known spam body.
func spamList(_ context.Context, env Env, args []string, sio stdio) error {
	if err := parseNone(flag.NewFlagSet("spam list", flag.ContinueOnError), args); err != nil {
		return err
	}
	recs, err := env.DB.SpamHashes()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(sio.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CRC32\tLENGTH\tHITS\tADDED\tLAST SEEN\tSHA1")
	for _, r := range recs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\n", r.String(), r.Length, r.Hits, stamp(r.Added), stamp(r.Updated), hex.EncodeToString(r.SHA1[:]))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(sio.out, "%d entries\n", len(recs))
	return nil
}

// spamClear forgets spam bodies: all of them, or with --older-than those
// not seen for that long.
func spamClear(_ context.Context, env Env, args []string, sio stdio) error {
	fs := flag.NewFlagSet("spam clear", flag.ContinueOnError)
	older := fs.Duration("older-than", 0, "only bodies not seen for this long (e.g. 720h)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("spam clear takes no arguments, only --older-than")
	}
	if *older < 0 {
		return usagef("--older-than must not be negative")
	}
	var before time.Time
	if *older > 0 {
		before = time.Now().Add(-*older)
	}
	n, err := env.DB.DeleteSpamHashes(before)
	if err != nil {
		return err
	}
	fmt.Fprintf(sio.out, "%d spam hashes removed\n", n)
	return nil
}
