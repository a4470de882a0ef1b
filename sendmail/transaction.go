package sendmail

import "fmt"

// transaction sends MAIL, one RCPT per recipient and the message. With
// PIPELINING (RFC 2920) MAIL and the RCPTs go out in one write and their
// replies are read in order afterwards; DATA waits for them, so a message
// is never sent when no recipient was accepted. reusable reports that the
// message was accepted with 250, the one outcome after which the
// connection is used for another transaction.
//
// On a kept connection (reset) the transaction starts with RSET, which
// proves the session still works before anything of the message is sent;
// with PIPELINING it travels in the same write as MAIL. A reply other
// than 250 is an error (the caller then closes the connection).
func (s *Sender) transaction(c *client, j *job, rs []*rcptState, reset bool) (reusable bool, err error) {
	c.dataSent = false
	mail := "MAIL FROM:<" + j.reversePath + ">"
	if c.has("SIZE") {
		mail += fmt.Sprintf(" SIZE=%d", len(j.msg))
	}
	if c.has("8BITMIME") {
		mail += " BODY=8BITMIME"
	}
	if c.has("PIPELINING") {
		return s.pipelined(c, j, mail, rs, reset)
	}
	if reset {
		if err := checkReset(c.cmd("RSET")); err != nil {
			return false, err
		}
	}
	rep, err := c.cmd(mail)
	if err != nil {
		return false, err
	}
	if rep.Code != 250 {
		mailRefused(c, rep, rs)
		return false, nil
	}
	for _, r := range rs {
		rep, err := c.cmd("RCPT TO:<" + r.path + ">")
		if err != nil {
			return false, err
		}
		r.setReply(c.host, rep)
	}
	return s.data(c, j, rs)
}

// checkReset turns the answer to RSET into an error unless it is 250.
func checkReset(rep reply, err error) error {
	if err == nil && rep.Code != 250 {
		err = &replyError{Step: "RSET", Reply: rep}
	}
	return err
}

func (s *Sender) pipelined(c *client, j *job, mail string, rs []*rcptState, reset bool) (bool, error) {
	if reset {
		if err := c.send("RSET"); err != nil {
			return false, err
		}
	}
	if err := c.send(mail); err != nil {
		return false, err
	}
	for _, r := range rs {
		if err := c.send("RCPT TO:<" + r.path + ">"); err != nil {
			return false, err
		}
	}
	if err := c.flush(); err != nil {
		return false, err
	}
	if reset {
		if err := checkReset(c.read()); err != nil {
			return false, err
		}
	}
	mrep, err := c.read()
	if err != nil {
		return false, err
	}
	// Every RCPT gets a reply even after a refused MAIL; read them all so
	// the stream stays in step.
	reps := make([]reply, len(rs))
	for i := range rs {
		if reps[i], err = c.read(); err != nil {
			// A server that refuses with 421 closes the connection (RFC
			// 5321 §3.8): its reply, not the EOF after it, is the reason.
			if mrep.Code != 250 {
				return false, &replyError{Step: "MAIL FROM", Reply: mrep}
			}
			if i > 0 && reps[i-1].Code == 421 {
				return false, &replyError{Step: "RCPT TO", Reply: reps[i-1]}
			}
			return false, err
		}
	}
	if mrep.Code != 250 {
		mailRefused(c, mrep, rs)
		return false, nil
	}
	for i, r := range rs {
		r.setReply(c.host, reps[i])
	}
	return s.data(c, j, rs)
}

// mailRefused records a refused MAIL FROM for every recipient: the sender
// was refused, so each recipient shares that answer. The caller ends the
// session.
func mailRefused(c *client, rep reply, rs []*rcptState) {
	for _, r := range rs {
		r.setReply(c.host, rep)
		r.reply = "MAIL FROM: " + r.reply
	}
}

// data sends the message when at least one RCPT was accepted and records
// the final reply for the accepted recipients.
func (s *Sender) data(c *client, j *job, rs []*rcptState) (bool, error) {
	var accepted []*rcptState
	for _, r := range rs {
		if r.ok {
			// Accepted by RCPT, but not delivered until the final reply.
			r.done, r.ok = false, false
			accepted = append(accepted, r)
		}
	}
	if len(accepted) == 0 {
		_, _ = c.cmd("RSET")
		return false, nil
	}
	rep, err := c.cmd("DATA")
	if err != nil {
		return false, err
	}
	if rep.Code != 354 {
		for _, r := range accepted {
			r.setReply(c.host, rep)
			r.reply = "DATA: " + r.reply
		}
		return false, nil
	}
	// From here on a broken connection leaves it unknown whether the
	// server took the message.
	c.dataSent = true
	if err := writeData(c.w, j.msg); err != nil {
		return false, fmt.Errorf("sending message to %s: %w", c.host, err)
	}
	// The server may take long to accept the data (content checks), so
	// the final reply gets its own, longer timeout (RFC 5321 §4.5.3.2.6).
	c.dc.readTimeout = max(s.cfg.DataTimeout, s.cfg.IOTimeout)
	rep, err = c.read()
	c.dc.readTimeout = s.cfg.IOTimeout
	if err != nil {
		return false, err
	}
	for _, r := range accepted {
		r.setReply(c.host, rep)
	}
	return rep.Code == 250, nil
}
