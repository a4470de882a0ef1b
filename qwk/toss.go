package qwk

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bbsmail/bbsmail/ftn"
)

func (c *Config) toss(ctx context.Context, mb Mailboxes, hub, path string, res *Result) error {
	info, err := os.Stat(path)
	if err != nil || info.Size() == 0 {
		return nil // Synchronet ignores empty packets too
	}
	if info.Size() > MaxFile {
		res.Bad++
		return setAside(path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	msgs, hdrs, err := ReadPacket(b)
	if err != nil {
		res.Bad++
		c.log().Warn(fmt.Sprintf("QWK: bad packet %s: %v; renamed to .bad", path, err))
		return setAside(path)
	}
	var mine []Message
	for _, m := range msgs {
		if m.Conf == 0 && !strings.Contains(m.To, "@") && !strings.EqualFold(m.To, "NETMAIL") {
			mine = append(mine, m)
		}
	}
	if len(mine) != len(msgs) {
		res.Left++
		if c.noted == nil {
			c.noted = map[string]time.Time{}
		}
		if !c.noted[path].Equal(info.ModTime()) {
			c.noted[path] = info.ModTime()
			c.log().Info(fmt.Sprintf("QWK: %s holds %d public or gateway messages; left for the BBS's QWK networking", path, len(msgs)-len(mine)))
		}
		return nil
	}
	now := time.Now()
	imported, dups := 0, 0
	for i := range mine {
		in := c.toInternet(hub, &mine[i], hdrs[mine[i].Offset], now)
		user, dup, err := mb.Deliver(ctx, in)
		if err != nil {
			return fmt.Errorf("storing mail from %s to %q: %w", in.Route, in.To, err)
		}
		if dup {
			dups++
			continue
		}
		imported++
		c.log().Info(fmt.Sprintf("QWK: netmail from %s@%s to %q stored for %s", in.From, in.Route, in.To, user))
	}
	if err := os.Remove(path); err != nil {
		return err
	}
	if err := ftn.SyncDir(filepath.Dir(path)); err != nil {
		return err
	}
	res.Packets++
	res.Imported += imported
	res.Dups += dups
	c.log().Info(fmt.Sprintf("QWK: unpacked %s: %d netmail stored, %d duplicates", path, imported, dups))
	return nil
}

// toInternet converts private mail from the hub. Replies go back by the
// route: From is ROUTE!Name@host, which the router sends to the hub.
func (c *Config) toInternet(hub string, m *Message, h map[string]string, now time.Time) Incoming {
	cs := ftn.CP437
	if strings.EqualFold(h["Utf8"], "true") {
		cs = ftn.UTF8
	}
	dec := func(s string) string { return strings.TrimSpace(cs.Decode([]byte(s))) }
	route := hub
	if via := strings.TrimSpace(m.Kludges["VIA"]); via != "" {
		route = hub + "/" + strings.ToUpper(via)
	}
	from, to, subject := dec(m.From), dec(m.To), dec(m.Subject)
	date := m.Date
	if date.IsZero() {
		date = now
	}
	im := ftn.InternetMessage{
		Received: fmt.Sprintf("from %s by %s with QWK; %s", hub, c.Host, now.Format(time.RFC1123Z)),
		FromName: from, FromAddr: route + "!" + ftn.LocalPart(from) + "@" + c.Host,
		ToName: to, ToAddr: ftn.LocalPart(to) + "@" + c.Host,
		Subject: subject, Date: date, Body: dec(m.Body),
	}
	key := ""
	if id := h["Message-ID"]; id != "" {
		im.Extra = append(im.Extra, "Message-ID: "+id)
		key = "qwk " + hub + " " + id
	} else {
		key = ftn.Digest("qwk", hub, m.Date.String(), m.To, m.From, m.Subject, m.Body)
	}
	if v := h["In-Reply-To"]; v != "" {
		im.Extra = append(im.Extra, "In-Reply-To: "+v)
	}
	if v := m.Kludges["REPLYTO"]; v != "" {
		im.Extra = append(im.Extra, "Reply-To: "+v)
	}
	return Incoming{To: to, From: from, Route: route, Key: key, Message: im.Bytes()}
}

func setAside(path string) error {
	bad := path + ".bad"
	if _, err := os.Lstat(bad); err == nil {
		bad = fmt.Sprintf("%s.%d.bad", path, time.Now().UnixNano())
	}
	return os.Rename(path, bad)
}
