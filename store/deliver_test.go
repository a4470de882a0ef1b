package store_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/store"
)

// TestDeliverSharesText sends one message to three users, a sub-board and
// a remote address: the text is stored once, each copy reads back with its
// own trace, and the text goes away only with the last copy.
func TestDeliverSharesText(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	u := addUsers(t, db, "Alpha", "Beta", "Gamma")
	env := &envelope.Envelope{
		ID: "t1", ReversePath: "joe@example.org", ClientIP: "192.0.2.1",
		Rcpts: []envelope.Rcpt{
			mailboxRcpt(u[0], "Received: for alpha\r\n"),
			mailboxRcpt(u[1], "Received: for beta\r\n"),
			mailboxRcpt(u[2], "Received: for gamma\r\n"),
			{Kind: envelope.KindSub, Sub: "GENERAL", To: "All", Trace: []byte("Received: for sub\r\n")},
			{Kind: envelope.KindRemote, NetAddr: "far@remote.example", Trace: []byte("Received: for far\r\n")},
			{Kind: envelope.KindDrop},
		},
	}
	r, err := db.Deliver(env, []byte(sampleMsg))
	if err != nil {
		t.Fatal(err)
	}
	if r.Mailbox != 3 || r.Sub != 1 || r.Remote != 1 || r.Dropped != 1 || len(r.QueueIDs) != 1 || len(r.Copies) != 6 {
		t.Fatalf("receipt %+v", r)
	}
	st, err := db.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Bodies != 1 || st.Messages != 3 || st.Posts != 1 || st.Queue != 1 {
		t.Fatalf("stats %+v; want 1 body for 3 messages, 1 post, 1 queued", st)
	}

	for i, name := range []string{"alpha", "beta", "gamma"} {
		box, err := db.Mailbox(u[i])
		if err != nil || len(box) != 1 {
			t.Fatalf("mailbox of %s: %v %v", name, box, err)
		}
		text, info, err := db.ReadMessage(u[i], box[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		want := "Received: for " + name + "\r\n" + sampleMsg
		if string(text) != want {
			t.Fatalf("%s reads %q, want %q", name, text, want)
		}
		if info.Size != int64(len(want)) || box[0].Size != info.Size {
			t.Fatalf("size %d/%d, want %d (the octets served)", info.Size, box[0].Size, len(want))
		}
		if info.Subject != "café meeting" || info.From != "Joe Sender <joe@example.org>" ||
			info.MessageID != "<1@example.org>" || info.ReversePath != "joe@example.org" {
			t.Fatalf("metadata %+v", info)
		}
		if !info.Date.Equal(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)) {
			t.Fatalf("date %v", info.Date)
		}
	}
	post, text, err := db.SubPost("general", r.Copies[3].ID)
	if err != nil || post.To != "All" || string(text) != "Received: for sub\r\n"+sampleMsg {
		t.Fatalf("post %+v %q %v", post, text, err)
	}
	qtext, err := db.QueueMessage(r.QueueIDs[0])
	if err != nil || string(qtext) != "Received: for far\r\n"+sampleMsg {
		t.Fatalf("queued text %q %v", qtext, err)
	}
	deleteCopiesOneByOne(t, db, u, r)
}

// deleteCopiesOneByOne removes the copies TestDeliverSharesText made, in
// turn, checking that the shared text stays while anything refers to it.
func deleteCopiesOneByOne(t *testing.T, db *store.DB, u []uint32, r store.Receipt) {
	t.Helper()
	// Deleting one user's copy keeps the text for everyone else.
	if err := db.DeleteMessages(u[0], r.Copies[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.ReadMessage(u[1], r.Copies[1].ID); err != nil {
		t.Fatalf("beta's copy lost after alpha deleted hers: %v", err)
	}
	if n, _ := db.MessageCount(u[0]); n != 0 {
		t.Fatalf("alpha still has %d messages", n)
	}
	// The post keeps the text after every mailbox copy and the queue entry go.
	if err := db.DeleteMessages(u[1], r.Copies[1].ID); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteMessages(u[2], r.Copies[2].ID); err != nil {
		t.Fatal(err)
	}
	if err := db.QueueDelivered(r.QueueIDs[0]); err != nil {
		t.Fatal(err)
	}
	if st, _ := db.Stats(); st.Bodies != 1 {
		t.Fatalf("%d bodies while the post still refers to the text", st.Bodies)
	}
	if _, text, err := db.SubPost("GENERAL", r.Copies[3].ID); err != nil || !strings.HasSuffix(string(text), sampleMsg) {
		t.Fatalf("post text lost: %v", err)
	}
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestDeleteAllFreesText(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	u := addUsers(t, db, "Alpha", "Beta")
	r, err := db.Deliver(&envelope.Envelope{Rcpts: []envelope.Rcpt{mailboxRcpt(u[0], ""), mailboxRcpt(u[1], "")}}, []byte(sampleMsg))
	if err != nil {
		t.Fatal(err)
	}
	// Deleting the same id twice, or one that never existed, is harmless.
	if err := db.DeleteMessages(u[0], r.Copies[0].ID, r.Copies[0].ID, 999); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteMessages(u[1], r.Copies[1].ID); err != nil {
		t.Fatal(err)
	}
	st, err := db.Stats()
	if err != nil || st.Bodies != 0 || st.Messages != 0 {
		t.Fatalf("stats %+v %v; want no bodies left", st, err)
	}
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestDeliverIsAllOrNothing(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	u := addUsers(t, db, "Alpha")
	env := &envelope.Envelope{Rcpts: []envelope.Rcpt{
		mailboxRcpt(u[0], ""),
		mailboxRcpt(77, ""), // no such user
	}}
	if _, err := db.Deliver(env, []byte(sampleMsg)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deliver to a missing user: %v, want ErrNotFound", err)
	}
	if st, _ := db.Stats(); st.Bodies != 0 || st.Messages != 0 {
		t.Fatalf("a failed delivery left %+v behind", st)
	}
	for _, bad := range []envelope.Rcpt{
		{Kind: envelope.KindRemote},
		{Kind: envelope.KindSub},
		{Kind: envelope.Kind(42)},
	} {
		if _, err := db.Deliver(&envelope.Envelope{Rcpts: []envelope.Rcpt{bad}}, []byte(sampleMsg)); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("recipient %+v: %v, want ErrInvalid", bad, err)
		}
	}
	if _, err := db.Deliver(&envelope.Envelope{}, nil); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("no recipients: %v", err)
	}
}

func TestDropOnlyStoresNothing(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	r, err := db.Deliver(&envelope.Envelope{Rcpts: []envelope.Rcpt{{Kind: envelope.KindDrop}}}, []byte(sampleMsg))
	if err != nil || r.Body != 0 || r.Dropped != 1 {
		t.Fatalf("receipt %+v %v", r, err)
	}
	if st, _ := db.Stats(); st.Bodies != 0 {
		t.Fatal("a dropped message was stored")
	}
}

// A recipient captured by a mail processor that no processor took (it is
// still KindProcessor at delivery) is accepted and written nowhere, while
// the other recipients of the message get their copies.
func TestProcessorRecipientStoresNothing(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	u := addUsers(t, db, "Alpha")
	r, err := db.Deliver(&envelope.Envelope{Rcpts: []envelope.Rcpt{
		{Kind: envelope.KindProcessor, To: "listserver@bbs.example"},
	}}, []byte(sampleMsg))
	if err != nil || r.Body != 0 || r.Dropped != 1 || len(r.Copies) != 1 || r.Copies[0].ID != 0 {
		t.Fatalf("processor only: receipt %+v %v", r, err)
	}
	if st, _ := db.Stats(); st.Bodies != 0 || st.Messages != 0 || st.Queue != 0 {
		t.Fatalf("a message for a processor recipient was stored: %+v", st)
	}
	r, err = db.Deliver(&envelope.Envelope{Rcpts: []envelope.Rcpt{
		{Kind: envelope.KindProcessor, To: "listserver@bbs.example"},
		mailboxRcpt(u[0], "Received: for alpha\r\n"),
	}}, []byte(sampleMsg))
	if err != nil || r.Mailbox != 1 || r.Dropped != 1 {
		t.Fatalf("with a mailbox: receipt %+v %v", r, err)
	}
	if st, _ := db.Stats(); st.Bodies != 1 || st.Messages != 1 {
		t.Fatalf("stats %+v; want one body for one message", st)
	}
}

// TestMailboxIDsStable checks the POP3 promise: ids are oldest first,
// survive a reopen, and are never handed out again after a delete.
func TestMailboxIDsStable(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "mail.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	u := addUsers(t, db, "Alpha")[0]
	var ids []uint64
	for i := 0; i < 5; i++ {
		msg := "Subject: number " + string(rune('0'+i)) + "\r\n\r\nbody\r\n"
		r, err := db.Deliver(&envelope.Envelope{Rcpts: []envelope.Rcpt{mailboxRcpt(u, "")}}, []byte(msg))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.Copies[0].ID)
	}
	// Delete the newest: its id must not come back.
	if err := db.DeleteMessages(u, ids[4]); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	box, err := db.Mailbox(u)
	if err != nil || len(box) != 4 {
		t.Fatalf("mailbox after reopen: %d messages, %v", len(box), err)
	}
	for i, m := range box {
		if m.ID != ids[i] || m.Subject != "number "+string(rune('0'+i)) {
			t.Fatalf("message %d is id %d %q, want id %d in arrival order", i, m.ID, m.Subject, ids[i])
		}
	}
	r, err := db.Deliver(&envelope.Envelope{Rcpts: []envelope.Rcpt{mailboxRcpt(u, "")}}, []byte(sampleMsg))
	if err != nil {
		t.Fatal(err)
	}
	if r.Copies[0].ID <= ids[4] {
		t.Fatalf("new message got id %d, reusing one up to %d", r.Copies[0].ID, ids[4])
	}
}

func TestMarkReadAndSpamFlag(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	u := addUsers(t, db, "Alpha")[0]
	r, err := db.Deliver(&envelope.Envelope{Spam: true, Rcpts: []envelope.Rcpt{mailboxRcpt(u, "")}}, []byte(sampleMsg))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.MarkRead(u, r.Copies[0].ID, 12345); err != nil {
		t.Fatal(err)
	}
	box, _ := db.Mailbox(u)
	if len(box) != 1 || box[0].Flags != store.FlagSpam|store.FlagRead {
		t.Fatalf("flags %v, want spam|read", box)
	}
	// Spam counts towards MaxMsgsWaiting.
	if n, err := db.MessageCount(u); n != 1 || err != nil {
		t.Fatalf("count %d %v", n, err)
	}
	if _, _, err := db.ReadMessage(u, 999); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing message: %v", err)
	}
	if box, err := db.Mailbox(99); err != nil || len(box) != 0 {
		t.Fatalf("mailbox of a user without mail: %v %v", box, err)
	}
}

func TestNetmailAndSubs(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	env := &envelope.Envelope{ReversePath: "joe@example.org", Rcpts: []envelope.Rcpt{
		{Kind: envelope.KindFido, To: "Rob Swindell", NetAddr: "1:103/705"},
		{Kind: envelope.KindQWK, To: "Sysop", NetAddr: "VERT/BBS"},
		{Kind: envelope.KindSub, Sub: "Dove-Net", To: "All"},
	}}
	if _, err := db.Deliver(env, []byte(sampleMsg)); err != nil {
		t.Fatal(err)
	}
	nm, err := db.Netmail()
	if err != nil || len(nm) != 2 {
		t.Fatalf("netmail %v %v", nm, err)
	}
	if nm[0].NetType != envelope.NetFido || nm[0].NetAddr != "1:103/705" || nm[0].To != "Rob Swindell" ||
		nm[1].NetType != envelope.NetQWK || nm[1].NetAddr != "VERT/BBS" {
		t.Fatalf("netmail entries %+v", nm)
	}
	if text, err := db.NetmailMessage(nm[0].ID); err != nil || string(text) != sampleMsg {
		t.Fatalf("netmail text %q %v", text, err)
	}
	posts, err := db.SubPosts("DOVE-NET")
	if err != nil || len(posts) != 1 || posts[0].Number != 1 || posts[0].Subject != "café meeting" {
		t.Fatalf("posts %+v %v", posts, err)
	}
	for _, e := range nm {
		if err := db.DeleteNetmail(e.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.DeleteNetmail(nm[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if st, _ := db.Stats(); st.Bodies != 1 || st.Netmail != 0 {
		t.Fatalf("stats %+v", st)
	}
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestTelegrams(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	u := addUsers(t, db, "Alpha")[0]
	for _, s := range []string{"first", "second"} {
		if err := db.AddTelegram(u, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.AddTelegram(50, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("telegram to a missing user: %v", err)
	}
	got, err := db.Telegrams(u, false)
	if err != nil || len(got) != 2 || got[0].Text != "first" || got[1].Text != "second" {
		t.Fatalf("peek %+v %v", got, err)
	}
	got, err = db.Telegrams(u, true)
	if err != nil || len(got) != 2 {
		t.Fatalf("take %+v %v", got, err)
	}
	if got, _ := db.Telegrams(u, false); len(got) != 0 {
		t.Fatalf("telegrams left after clearing: %+v", got)
	}
}

// A post mailed to a sub-board without PostTo is addressed to the name in
// the To header, else to "All".
func TestSubPostAddressee(t *testing.T) {
	db, _ := openTemp(t)
	cases := []struct{ postTo, header, want string }{
		{"", "To: \"General Readers\" <sub:LOCAL-GENERAL@bbs.test>\r\n", "General Readers"},
		{"", "To: =?utf-8?q?J=C3=B6rg?= <joerg@bbs.test>\r\n", "Jörg"},
		{"", "To: sub:LOCAL-GENERAL@bbs.test\r\n", "All"},
		{"", "", "All"},
		{"Sysop", "To: \"General Readers\" <x@bbs.test>\r\n", "Sysop"},
	}
	for i, c := range cases {
		msg := []byte("From: a@b.example\r\n" + c.header + "Subject: s\r\n\r\nbody\r\n")
		env := &envelope.Envelope{ReversePath: "a@b.example", Rcpts: []envelope.Rcpt{{Kind: envelope.KindSub, Sub: "LOCAL-GENERAL", To: c.postTo}}}
		if _, err := db.Deliver(env, msg); err != nil {
			t.Fatal(err)
		}
		posts, err := db.SubPosts("local-general")
		if err != nil || len(posts) != i+1 {
			t.Fatalf("posts: %v %v", posts, err)
		}
		if got := posts[i].To; got != c.want {
			t.Errorf("case %d: addressed to %q, want %q", i, got, c.want)
		}
	}
}
