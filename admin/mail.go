package admin

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bbsmail/bbsmail/store"
)

func sortStrings(s []string) { sort.Strings(s) }

func mailList(_ context.Context, env Env, args []string, sio stdio) error {
	fs := flag.NewFlagSet("mail list", flag.ContinueOnError)
	if pos, err := parse(fs, args); err == nil && len(pos) == 0 {
		return mailboxes(env, sio)
	}
	u, _, err := userLine(env, fs, args, 1, "[ALIAS]")
	if err != nil {
		return err
	}
	msgs, err := env.DB.Mailbox(u.Number)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(sio.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tDATE\tFROM\tSUBJECT\tSIZE\tFLAGS")
	for _, m := range msgs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\n", m.ID, stamp(m.Received), clip(m.From, 40), clip(m.Subject, 50), m.Size, msgFlags(m.Flags))
	}
	return tw.Flush()
}

// mailboxes lists every user's mailbox: what "bbsmail mail" shows.
func mailboxes(env Env, sio stdio) error {
	users, err := env.DB.Users()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(sio.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tALIAS\tMESSAGES\tSPAM\tBYTES")
	for _, u := range users {
		if u.Deleted {
			continue
		}
		msgs, err := env.DB.Mailbox(u.Number)
		if err != nil {
			return err
		}
		var spam, size int64
		for _, m := range msgs {
			size += m.Size
			if m.Flags&store.FlagSpam != 0 {
				spam++
			}
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%d\n", u.Number, u.Alias, len(msgs), spam, size)
	}
	return tw.Flush()
}

func mailRead(_ context.Context, env Env, args []string, sio stdio) error {
	u, pos, err := userLine(env, flag.NewFlagSet("mail read", flag.ContinueOnError), args, 2, "ALIAS N")
	if err != nil {
		return err
	}
	id, err := strconv.ParseUint(pos[1], 10, 64)
	if err != nil {
		return usagef("message number %q", pos[1])
	}
	text, _, err := env.DB.ReadMessage(u.Number, id)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no message %d in %s's mailbox (bbsmail mail list %q)", id, u.Alias, u.Alias)
	}
	if err != nil {
		return fmt.Errorf("message %d of %s: %w", id, u.Alias, err)
	}
	_, err = sio.out.Write(text)
	return err
}

func subList(_ context.Context, env Env, args []string, sio stdio) error {
	pos, err := parse(flag.NewFlagSet("sub list", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 1, "CODE"); err != nil {
		return err
	}
	posts, err := env.DB.SubPosts(pos[0])
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(sio.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tDATE\tFROM\tTO\tSUBJECT")
	for _, p := range posts {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", p.Number, stamp(p.Received), clip(p.From, 40), clip(p.To, 25), clip(p.Subject, 50))
	}
	return tw.Flush()
}

func subRead(_ context.Context, env Env, args []string, sio stdio) error {
	pos, err := parse(flag.NewFlagSet("sub read", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 2, "CODE N"); err != nil {
		return err
	}
	n, err := strconv.ParseUint(pos[1], 10, 64)
	if err != nil {
		return usagef("message number %q", pos[1])
	}
	_, text, err := env.DB.SubPost(pos[0], n)
	if err != nil {
		return err
	}
	_, err = sio.out.Write(text)
	return err
}

// netmailList shows the netmail waiting for export (queued, or packing
// while an export is between its steps), then the exported netmail still
// recorded: packed into a packet that waits in the outbound, or sent once
// the mailer removed it (kept store.NetmailSentKeep, at most
// store.NetmailSentMax).
func netmailList(_ context.Context, env Env, args []string, sio stdio) error {
	if err := parseNone(flag.NewFlagSet("netmail list", flag.ContinueOnError), args); err != nil {
		return err
	}
	if err := env.DB.NetmailSentCheck(PacketGone, time.Now()); err != nil {
		return err
	}
	list, err := env.DB.Netmail()
	if err != nil {
		return err
	}
	packed, err := env.DB.NetmailPacked()
	if err != nil {
		return err
	}
	done, err := env.DB.NetmailSent()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(sio.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tDATE\tNET\tDESTINATION\tSTATE\tPACKET\tTO\tFROM\tSUBJECT")
	row := func(m store.NetmailEntry, state, packet string) {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.ID, stamp(m.Received), m.NetType, m.NetAddr, state,
			packet, clip(m.To, 25), clip(m.From, 40), clip(m.Subject, 40))
	}
	for _, m := range list {
		state, packet := "queued", "-"
		if mk, ok := packed[m.ID]; ok {
			state, packet = "packing", mk.Final
		}
		row(m, state, packet)
	}
	for _, d := range done {
		state := "packed"
		if !d.Sent.IsZero() {
			state = "sent " + stamp(d.Sent)
		}
		row(d.NetmailEntry, state, d.Packet)
	}
	return tw.Flush()
}

// PacketGone reports whether a netmail packet has left the outbound: the
// mailer (binkd) or the QWK call-out deletes a packet once it is sent.
func PacketGone(packet string) bool {
	_, err := os.Lstat(packet)
	return errors.Is(err, os.ErrNotExist)
}

func telegramList(_ context.Context, env Env, args []string, sio stdio) error {
	fs := flag.NewFlagSet("telegram list", flag.ContinueOnError)
	clear := fs.Bool("clear", false, "remove the telegrams after listing them")
	u, _, err := userLine(env, fs, args, 1, "ALIAS")
	if err != nil {
		return err
	}
	list, err := env.DB.Telegrams(u.Number, *clear)
	if err != nil {
		return err
	}
	for _, t := range list {
		fmt.Fprintf(sio.out, "[%s]\n%s\n", stamp(t.Time), t.Text)
	}
	if len(list) == 0 {
		fmt.Fprintf(sio.out, "no telegrams for %s\n", u.Alias)
	}
	return nil
}

func msgFlags(f store.MsgFlags) string {
	var out []string
	for _, x := range []struct {
		bit  store.MsgFlags
		name string
	}{{store.FlagRead, "read"}, {store.FlagSpam, "spam"}, {store.FlagKillRead, "kill-read"}, {store.FlagDeleted, "deleted"}} {
		if f&x.bit != 0 {
			out = append(out, x.name)
		}
	}
	if len(out) == 0 {
		return "new"
	}
	return strings.Join(out, ",")
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04")
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		if s == "" {
			return "-"
		}
		return s
	}
	return string(r[:n-1]) + "…"
}
