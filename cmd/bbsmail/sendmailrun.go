package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/bbsmail/bbsmail/ctrl"
	"github.com/bbsmail/bbsmail/sendmail"
)

// sendMailRunner owns the SendMail queue runner across recycles: a recycle
// whose SendMail settings differ stops the running Sender (its deliveries
// in flight finish first) and starts one with the new settings, as
// Synchronet's recycle restarts its SendMail thread. NO_SENDMAIL set or
// cleared stops or starts it.
type sendMailRunner struct {
	s *server

	restart sync.Mutex // one restart at a time

	mu     sync.Mutex
	sender *sendmail.Sender
	stop   func() // cancels the running Sender and waits for it
	key    string // sendMailKey of the running Sender's configuration
}

// start runs a Sender for cfg under ctx unless NO_SENDMAIL is set. Entries
// a previous Sender left in transit are claimed again first.
func (r *sendMailRunner) start(ctx context.Context, cfg *ctrl.Config) error {
	s := r.s
	key := sendMailKey(cfg)
	if cfg.Mail.Options.Has(ctrl.NoSendMail) {
		r.set(nil, nil, key)
		return nil
	}
	n, err := s.db.QueueClearTransit()
	if err != nil {
		return err
	}
	if n > 0 {
		notice(s.log, fmt.Sprintf("SendMail: %d messages left in transit by the last run will be retried", n))
	}
	sc, err := sendmailConfig(cfg, s.log)
	if err != nil {
		return err
	}
	// Bounces to remote senders go back into the queue: wake SendMail for
	// them too.
	drop := &maildrop{db: s.db, sign: s.dkim, log: s.log, killRead: s.killReadMail, wake: r.wake}
	snd := sendmail.New(sc, sendmail.Deps{Queue: newCountQueue(queue{db: s.db}, s.metrics), Maildrop: drop})
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(done)
		defer s.recoverGoroutine("SendMail")
		if err := snd.Run(sctx); err != nil && !errors.Is(err, context.Canceled) {
			s.log.Error(fmt.Sprintf("SendMail: %v", err))
		}
	}()
	r.set(snd, func() { cancel(); <-done }, key)
	return nil
}

func (r *sendMailRunner) set(snd *sendmail.Sender, stop func(), key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sender, r.stop, r.key = snd, stop, key
}

// wake tells the running Sender that the queue has new entries.
func (r *sendMailRunner) wake() {
	r.mu.Lock()
	snd := r.sender
	r.mu.Unlock()
	if snd != nil {
		snd.Wake()
	}
}

// reload restarts SendMail when cfg's SendMail settings differ from the
// running ones; it reports whether it did.
func (r *sendMailRunner) reload(ctx context.Context, cfg *ctrl.Config) bool {
	r.restart.Lock()
	defer r.restart.Unlock()
	r.mu.Lock()
	same, stop := r.key == sendMailKey(cfg), r.stop
	r.mu.Unlock()
	if same {
		return false
	}
	if stop != nil {
		r.s.log.Info("SendMail: settings changed, restarting once the deliveries under way finish")
		stop()
	}
	if err := r.start(ctx, cfg); err != nil {
		r.s.log.Error(fmt.Sprintf("!SendMail: cannot start with the new settings: %v", err))
		return false
	}
	if cfg.Mail.Options.Has(ctrl.NoSendMail) {
		notice(r.s.log, "SendMail stopped (NO_SENDMAIL)")
	} else {
		notice(r.s.log, "SendMail restarted with the new settings")
	}
	return true
}

// sendMailKey sums up everything SendMail takes from the configuration,
// so a recycle can tell whether it changed.
func sendMailKey(cfg *ctrl.Config) string {
	sc, err := sendmailConfig(cfg, nil)
	if err != nil {
		return "error: " + err.Error()
	}
	sc.IsExempt, sc.Logger = nil, nil
	var b strings.Builder
	fmt.Fprintf(&b, "%t %+v", cfg.Mail.Options.Has(ctrl.NoSendMail), sc)
	return b.String()
}
