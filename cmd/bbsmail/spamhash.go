package main

import (
	"context"
	"time"

	"github.com/bbsmail/bbsmail/smtpd"
	"github.com/bbsmail/bbsmail/store"
)

// spamHashes gives the SMTP server the mailbase's spam hash database.
type spamHashes struct{ db *store.DB }

var _ smtpd.SpamHashes = spamHashes{}

func (h spamHashes) AddSpam(_ context.Context, body []byte) error {
	sum, ok := store.HashBody(body)
	if !ok {
		return nil
	}
	_, err := h.db.AddSpamHash(sum, time.Now())
	return err
}

func (h spamHashes) KnownSpam(_ context.Context, body []byte) (bool, string, time.Time, error) {
	r, sum, found, err := h.db.MatchSpamBody(body, time.Now())
	if err != nil || !found {
		return false, "", time.Time{}, err
	}
	return true, sum.String(), r.Added, nil
}
