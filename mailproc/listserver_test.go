package mailproc_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/mailproc"
)

// boards is an in-memory mailbase for MsgBase: posts per sub-board and
// everything delivered.
type boards struct {
	mu        sync.Mutex
	posts     map[string][][]byte
	delivered []delivered
}

type delivered struct {
	rcpts []envelope.Rcpt
	from  string
	text  string
}

func (b *boards) Posts(code string) ([]uint64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var n []uint64
	for i := range b.posts[code] {
		n = append(n, uint64(i+1))
	}
	return n, nil
}

func (b *boards) PostText(code string, n uint64) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.posts[code][n-1], nil
}

func (b *boards) Deliver(env *envelope.Envelope, text []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.delivered = append(b.delivered, delivered{rcpts: env.Rcpts, from: env.ReversePath, text: string(text)})
	for _, r := range env.Rcpts {
		if r.Kind == envelope.KindSub {
			if b.posts == nil {
				b.posts = map[string][][]byte{}
			}
			b.posts[r.Sub] = append(b.posts[r.Sub], text)
		}
	}
	return nil
}

// Synchronet's listserver.js runs unmodified over the mailbase's
// sub-boards: "subscribe" adds the sender to the list and answers by mail;
// a subscriber's contribution is posted on the list's sub-board and, in
// the event pass that follows, sent to every subscriber with the list's
// headers; a stranger's contribution is refused with the script's text.
func TestStockListserver(t *testing.T) {
	t.Parallel()
	exec := stockExec(t)
	tr := newTree(t)
	tr.write(t, "ctrl/listserver.ini", "[sync]\n\tsub = LOCAL-GENERAL\n")
	b := &boards{}
	s := tr.load(t, "[ListServer]\nCommand = listserver.js\nTo = listserver, sync\nPassThru = false\n", func(c *mailproc.Config) {
		c.ExecDir = exec
		c.Boards = b
		c.Subs = []mailproc.SubInfo{{Code: "LOCAL-GENERAL", Name: "General", Description: "General discussion", Group: "Local"}}
	})
	mailTo := func(to, from, subject, body string) mailproc.Input {
		in := input(envelope.Rcpt{Kind: envelope.KindProcessor, To: to, ForwardPath: "<" + to + ">",
			NetType: envelope.NetInternet, NetAddr: to, Processors: []string{"ListServer"}})
		in.Env.ReversePath, in.SenderAddr, in.SenderName, in.LastRcpt = from, from, "Joe Sender", to
		in.Text = []byte("From: Joe Sender <" + from + ">\r\nTo: <" + to + ">\r\nSubject: " + subject +
			"\r\nMessage-ID: <" + subject + "@example.org>\r\n\r\n" + body + "\r\n")
		return in
	}

	out := run(t, s, mailTo("listserver@bbs.example.org", "joe@example.org", "commands", "subscribe sync"))
	if !out.Consumed || out.Reject != nil || len(out.Failed) != 0 {
		t.Fatalf("subscribe: %+v\n%s", out, tr.log)
	}
	subs, err := os.ReadFile(filepath.Join(tr.data, "subs", "local-general.list.sub"))
	if err != nil || !strings.Contains(string(subs), "[joe@example.org]") {
		t.Fatalf("subscriber list %q (%v)\n%s", subs, err, tr.log)
	}
	if len(b.delivered) != 1 || b.delivered[0].rcpts[0].NetAddr != "joe@example.org" ||
		b.delivered[0].from != "listserver@bbs.example.org" ||
		!strings.Contains(b.delivered[0].text, "sync@bbs.example.org subscription successful") &&
			!strings.Contains(b.delivered[0].text, "joe@example.org subscription successful") {
		t.Fatalf("the answer to subscribe: %+v\n%s", b.delivered, tr.log)
	}

	out = run(t, s, mailTo("sync@bbs.example.org", "joe@example.org", "hello-list", "First post."))
	if !out.Consumed || out.Reject != nil || len(out.Failed) != 0 {
		t.Fatalf("contribution: %+v\n%s", out, tr.log)
	}
	if n, _ := b.Posts("local-general"); len(n) != 1 {
		t.Fatalf("posts %v, want the contribution posted\n%s", n, tr.log)
	}
	last := b.delivered[len(b.delivered)-1]
	if len(last.rcpts) != 1 || last.rcpts[0].Kind != envelope.KindRemote || last.rcpts[0].NetAddr != "joe@example.org" ||
		last.from != "listserver@bbs.example.org" || !strings.Contains(last.text, "List-ID: General discussion <sync.bbs.example.org>") ||
		!strings.Contains(last.text, "Subject: hello-list") || !strings.Contains(last.text, "First post.") ||
		!strings.Contains(last.text, "Reply-To: sync@bbs.example.org") {
		t.Fatalf("the post sent to the subscribers: %+v\n%s", last, tr.log)
	}

	before := len(b.delivered)
	out = run(t, s, mailTo("sync@bbs.example.org", "stranger@example.net", "let-me-post", "Spam."))
	if out.Reject == nil || !strings.Contains(strings.Join(out.Reject.Lines(), "\n"), "stranger@example.net is not a subscriber") {
		t.Fatalf("a stranger's post: %+v\n%s", out, tr.log)
	}
	if len(b.delivered) != before {
		t.Errorf("a stranger's post was delivered: %+v", b.delivered[before:])
	}
	tr.noTempFiles(t)
}

// A script that uses a MsgBase feature sub-boards cannot carry is
// reported when mailproc.ini loads, and mail it takes is refused with a
// permanent 550, not deferred with 451: trying again would fail the same
// way.
func TestMsgBaseUnsupportedIsPermanent(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	tr.write(t, "exec/poll.js", `var mb = new MsgBase("LOCAL-GENERAL"); mb.open(); mb.add_poll({subject: "lunch?"});`)
	tr.write(t, "ctrl/mailproc.ini", "[Poll]\nCommand = poll.js\nPassThru = false\n")
	cfg := tr.config()
	cfg.Boards = &boards{}
	cfg.Subs = []mailproc.SubInfo{{Code: "LOCAL-GENERAL"}}
	s, warns, err := mailproc.Load(cfg)
	if err != nil || len(warns) != 1 || !strings.Contains(warns[0].String(), "uses MsgBase.add_poll") {
		t.Fatalf("Load: %v %v, want a warning naming MsgBase.add_poll", warns, err)
	}
	out := run(t, s, input(user1))
	if out.Reject == nil || out.Reject.Code != 550 || len(out.Failed) != 1 || !errors.Is(out.Failed[0].Err, mailproc.ErrUnsupported) {
		t.Fatalf("outcome %+v, want 550 and the failure wrapping ErrUnsupported", out)
	}
}
