package sendmail

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
)

// settle tells the queue each recipient's outcome: delivered entries are
// removed (and their address auto-exempted), temporary failures deferred
// with backoff, and permanent failures or entries out of attempts bounced
// to the sender and removed.
func (s *Sender) settle(ctx context.Context, j *job, rs []*rcptState) {
	var ids []uint64
	for _, r := range rs {
		if r.ok {
			ids = append(ids, r.entry.ID)
		}
	}
	if len(ids) > 0 {
		s.removals.remove(ids)
	}
	var failed []*rcptState
	for _, r := range rs {
		e := r.entry
		switch {
		case r.ok:
			s.log.Info("SendMail delivered", "id", e.ID, "to", e.Rcpt, "host", r.host, "reply", r.reply)
			r.settled = true
			s.forget(e.ID)
			if j.reversePath != "" {
				s.autoExempt(j.reversePath, r.path)
			}
		case !r.perm && e.Attempts+1 < s.cfg.MaxAttempts:
			s.attemptFailed(j, r)
			r.settled = true
			s.settleDefer(e, r.failText())
		default:
			failed = append(failed, r)
		}
	}
	if len(failed) > 0 {
		s.bounce(ctx, j, failed)
	}
}

// bounce sends one delivery-failure notice for the failed recipients of
// j, then removes their entries. Notices are never sent for mail from the
// null sender or for mail that is itself a notice, which would loop. If
// the notice cannot be stored the entries are deferred, so the sender is
// told later rather than never.
func (s *Sender) bounce(ctx context.Context, j *job, failed []*rcptState) {
	fail := func() {
		for _, r := range failed {
			if err := s.q.QueueFail(r.entry.ID, r.failText()); err != nil {
				s.log.Error("SendMail removing failed entry", "id", r.entry.ID, "err", err)
			}
			r.settled = true
			s.forget(r.entry.ID)
		}
	}
	for _, r := range failed {
		s.attemptFailed(j, r)
	}
	if j.reversePath == "" || isNotice(j.msg) {
		// Never a notice for the null sender or for a notice: it would loop.
		s.notice(fmt.Sprintf("SEND !Deleted undeliverable message #%d from %s", failed[0].entry.ID, pathText(j.reversePath)))
		fail()
		return
	}
	s.notice("SEND !Bouncing message back to " + pathText(j.reversePath))
	if s.drop == nil {
		s.log.Error("SendMail has no maildrop for the bounce", "id", failed[0].entry.ID)
		fail()
		return
	}
	msg := s.bounceMessage(j, failed)
	env := s.bounceEnvelope(j, failed[0].entry)
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := s.drop.Deliver(dctx, env, msg); err != nil {
		s.log.Error("SendMail storing the bounce", "id", failed[0].entry.ID, "err", err)
		for _, r := range failed {
			r.settled = true
			s.settleDefer(r.entry, "storing the delivery-failure notice: "+err.Error())
		}
		return
	}
	s.notice(fmt.Sprintf("SEND !Delivery failure notification (message #%d) created for %s", failed[0].entry.ID, pathText(j.reversePath)))
	fail()
}

// attemptFailed logs a failed delivery attempt in Synchronet's words, the
// line its FAQ tells sysops to look for.
func (s *Sender) attemptFailed(j *job, r *rcptState) {
	s.notice(fmt.Sprintf("SEND !Delivery attempt #%d FAILED (%s) for message #%d from %s to %s",
		r.entry.Attempts+1, r.failText(), r.entry.ID, pathText(j.reversePath), pathText(r.entry.Rcpt)))
}

// notice logs at Notice, between Info and Warning, as the server's own
// Notice lines.
func (s *Sender) notice(msg string) { s.log.Log(context.Background(), slog.LevelInfo+2, msg) }

// pathText shows a mail path in angle brackets, the null sender as <>.
func pathText(p string) string { return "<" + p + ">" }

// bounceEnvelope addresses the notice: a local sender's mailbox, else the
// reverse path by Internet mail. The notice itself has the null sender.
func (s *Sender) bounceEnvelope(j *job, e Entry) *envelope.Envelope {
	rc := envelope.Rcpt{Kind: envelope.KindRemote, To: j.reversePath, NetType: envelope.NetInternet,
		NetAddr: j.reversePath, ForwardPath: "<" + j.reversePath + ">"}
	if e.LocalSender != 0 {
		rc = envelope.Rcpt{Kind: envelope.KindMailbox, User: e.LocalSender, To: j.reversePath}
	}
	return &envelope.Envelope{
		ID:          "bounce-" + formatID(e.ID),
		ReversePath: "",
		Helo:        s.cfg.HostName,
		ClientIP:    "127.0.0.1",
		ClientHost:  s.cfg.HostName,
		ServerHost:  s.cfg.HostName,
		Proto:       "SMTP",
		Rcpts:       []envelope.Rcpt{rc},
		Received:    s.cfg.Now(),
	}
}

// removals records delivered entries in the queue in groups: the ids that
// arrive while one QueueDelivered commits go together in the next one, so
// the commit rate, not the delivery rate, sets the size of a group, and no
// delivery waits for a timer.
type removals struct {
	q   Queue
	log *slog.Logger

	mu      sync.Mutex
	ids     []uint64
	waiters []chan struct{}
	running bool
}

// remove returns once ids are removed from the queue (or the attempt
// failed and was logged).
func (rm *removals) remove(ids []uint64) {
	done := make(chan struct{})
	rm.mu.Lock()
	rm.ids = append(rm.ids, ids...)
	rm.waiters = append(rm.waiters, done)
	if !rm.running {
		rm.running = true
		go rm.run()
	}
	rm.mu.Unlock()
	<-done
}

// run commits groups until none is waiting.
func (rm *removals) run() {
	for {
		rm.mu.Lock()
		ids, waiters := rm.ids, rm.waiters
		rm.ids, rm.waiters = nil, nil
		if len(waiters) == 0 {
			rm.running = false
			rm.mu.Unlock()
			return
		}
		rm.mu.Unlock()
		rm.commit(ids)
		for _, w := range waiters {
			close(w)
		}
	}
}

func (rm *removals) commit(ids []uint64) {
	defer func() {
		if p := recover(); p != nil {
			rm.log.Error("SendMail removing delivered entries panicked", "panic", p, "stack", string(debug.Stack()))
		}
	}()
	if err := rm.q.QueueDelivered(ids...); err != nil {
		rm.log.Error("SendMail removing delivered entries", "ids", ids, "err", err)
	}
}
