package mailproc

import "github.com/bbsmail/bbsmail/envelope"

// MatchRcpt is the RCPT-time half of the processors (Synchronet's step
// between the name alias and the user lookup). name is the recipient's
// name as resolution sees it (after alias.cfg, without the domain) and addr
// the address after the forward: and local: prefixes; a To pattern that
// matches either marks the processor. q supplies the sender for
// AccessRequirements (Auth, ClientIP, ClientHost, TLS) and whether the
// client is DNS-blacklisted (Listed).
//
// matched lists, in file order, the processors whose To patterns matched:
// the resolver stores them in envelope.Rcpt.Processors so that Run knows
// which To-restricted processors to run. target is the last of them with
// PassThru=false: the recipient is accepted for that processor (a list
// server's address) without a user lookup.
//
// Disabled processors never match. (Synchronet matches them, so a disabled
// consuming processor still swallows its recipients and delivery then
// fails; here its To names simply stop existing.) Processors skipped at the
// end of DATA anyway are skipped here too: ProcessDNSBL=false for a listed
// client, and unmet AccessRequirements.
func (s *Set) MatchRcpt(name, addr string, q envelope.RcptQuery) (matched []string, target string) {
	if s == nil {
		return nil, ""
	}
	who := Access{IP: q.ClientIP, Host: q.ClientHost, Protocol: protocol(q.TLS)}
	if q.Auth != nil {
		who.User = q.Auth.User
	}
	for i := range s.procs {
		p := &s.procs[i]
		if p.Disabled || p.to == nil || (q.Listed && !p.ProcessDNSBL) || !allowed(p, who) {
			continue
		}
		if p.to.Match(name, addr) {
			matched = append(matched, p.Name)
			if !p.PassThru {
				target = p.Name
			}
		}
	}
	return matched, target
}

// allowed checks AccessRequirements. Without an evaluator a restricted
// processor never runs.
func allowed(p *Processor, who Access) bool {
	return p.AccessRequirements == "" || (p.allow != nil && p.allow(who))
}

// skipReason says why a processor does not run for this message, or ""
// when it runs. matched is the set of processors named by recipients.
func (s *Set) skipReason(p *Processor, in *Input, matched map[string]bool) string {
	switch {
	case p.Disabled:
		return "disabled"
	case in.Listed && !p.ProcessDNSBL:
		return "client is DNS-blacklisted (ProcessDNSBL=false)"
	case in.spam() && !p.ProcessSPAM:
		return "message is spam (ProcessSPAM=false)"
	case !allowed(p, in.access()):
		return "access requirements not met"
	case p.to != nil && !matched[p.Name]:
		return "no recipient matches To"
	case p.from != nil && !p.from.Match(in.SenderAddr):
		return "sender does not match From"
	}
	return ""
}

// matchedBy collects the processor names the recipients carry.
func matchedBy(rcpts []envelope.Rcpt) map[string]bool {
	m := map[string]bool{}
	for _, r := range rcpts {
		for _, n := range r.Processors {
			m[n] = true
		}
	}
	return m
}

// selected returns the processors that run for in, in file order.
func (s *Set) selected(in *Input) []*Processor {
	if s == nil {
		return nil
	}
	matched := matchedBy(in.Env.Rcpts)
	var out []*Processor
	for i := range s.procs {
		p := &s.procs[i]
		if r := s.skipReason(p, in, matched); r != "" {
			if p.to == nil || matched[p.Name] {
				// Only a processor that would otherwise have applied is
				// worth a line in the log.
				in.logger(s).Debug("mail processor skipped", "processor", p.Name, "reason", r)
			}
			continue
		}
		out = append(out, p)
	}
	return out
}

// captured reports whether rc was accepted only for a processor.
func captured(rc envelope.Rcpt) bool { return rc.Kind == envelope.KindProcessor }
