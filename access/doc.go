// Package access holds the sysop's rules about who may do what by mail,
// as Synchronet applies them: which account a login id names (by number,
// alias or real name, as main.ini allows), [Mail] LoginRequirements, the
// authenticated identity a user gets, and who may post on a sub-board by
// mail (the group's and the sub-board's access requirements and its
// post_ars).
//
// It works over route.Directory and answers refusals with
// *envelope.Reply values, so every server gives the same answer. It does
// not verify passwords (the mailbase does, and the wiring calls it), read
// the configuration (the wiring passes plain values) or keep state.
package access
