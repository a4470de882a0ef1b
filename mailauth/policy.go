package mailauth

import "fmt"

// Action is what the sysop's rules do with a message.
type Action int

// The actions, weakest first.
const (
	Accept Action = iota // store as usual (the verdict is still recorded)
	Tag                  // store as spam, as a DNS-blacklisted message is
	Refuse               // refuse at the end of DATA
)

// String names the action for the log and for option values.
func (a Action) String() string {
	switch a {
	case Tag:
		return "tag"
	case Refuse:
		return "refuse"
	}
	return "accept"
}

// ParseAction reads an option value: accept, tag or refuse.
func ParseAction(s string) (Action, error) {
	for _, a := range []Action{Accept, Tag, Refuse} {
		if s == a.String() {
			return a, nil
		}
	}
	return Accept, fmt.Errorf("%q is not accept, tag or refuse", s)
}

// Rules are the sysop's policy options; the zero value accepts everything
// and only records verdicts.
type Rules struct {
	// DMARCReject refuses a DMARC failure whose domain publishes
	// p=reject.
	DMARCReject bool
	// DMARCQuarantine tags a DMARC failure whose domain publishes
	// p=quarantine, or p=reject when DMARCReject is off.
	DMARCQuarantine bool
	// SPFFail is done with an SPF fail (the sender's "-all" matched).
	// Softfail and neutral never count.
	SPFFail Action
}

// Decision is what the rules say about one verdict.
type Decision struct {
	Action Action
	// Enhanced is the RFC 3463 code of a refusal: 5.7.1 for DMARC (as the
	// large providers answer), 5.7.23 for SPF (RFC 7372 §3.2).
	Enhanced string
	Reason   string // for the reply, spam.log and the log
}

// Decide applies the rules to v. Only a definite fail acts: a temperror
// (a DNS timeout, a server failure) or permerror never refuses or tags
// mail.
func (r Rules) Decide(v Verdict) Decision {
	d := Decision{Action: Accept}
	if v.DMARC.Result == Fail {
		reason := fmt.Sprintf("DMARC policy of %s (p=%s): no aligned SPF or DKIM pass", v.DMARC.From, v.DMARC.Policy)
		switch {
		case v.DMARC.Policy == PolicyReject && r.DMARCReject:
			return Decision{Action: Refuse, Enhanced: "5.7.1", Reason: reason}
		case (v.DMARC.Policy == PolicyReject || v.DMARC.Policy == PolicyQuarantine) && r.DMARCQuarantine:
			d = Decision{Action: Tag, Reason: reason}
		}
	}
	if v.SPF.Result == Fail && r.SPFFail > d.Action {
		d = Decision{Action: r.SPFFail, Enhanced: "5.7.23",
			Reason: fmt.Sprintf("SPF of %s does not allow this host to send its mail", v.SPF.Domain)}
	}
	return d
}
