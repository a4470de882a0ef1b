package main

import (
	"context"
	"strings"

	"github.com/bbsmail/bbsmail/access"
	"github.com/bbsmail/bbsmail/ars"
	"github.com/bbsmail/bbsmail/ctrl"
	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/store"
)

// arsSubject describes a mailbase user (the zero User for nobody) and the
// client connection for an access requirement string.
func arsSubject(u store.User, c envelope.Client) ars.Subject {
	return access.Subject(toRouteUser(u), c)
}

// mayPost is route.Config.MayPost for the sub-boards in cfg: each
// sub-board must meet its group's and its own access requirements and
// its post_ars (package access decides).
func mayPost(cfg *ctrl.Config, db *store.DB) func(context.Context, string, envelope.RcptQuery) error {
	groups := map[string]string{}
	for _, g := range cfg.System.Groups {
		groups[strings.ToLower(g.Name)] = g.ARS
	}
	subs := make([]access.Sub, 0, len(cfg.System.Subs))
	for _, s := range cfg.System.Subs {
		subs = append(subs, access.Sub{Code: s.Code, Name: s.Name,
			Requirements: []string{groups[strings.ToLower(s.Group)], s.ARS, s.PostARS}})
	}
	return access.MayPost(directory{db: db}, subs)
}
