package sendmail

import "fmt"

// transaction sends MAIL, one RCPT per recipient and the message. With
// PIPELINING (RFC 2920) MAIL and the RCPTs go out in one write and their
// replies are read in order afterwards; DATA waits for them, so a message
// is never sent when no recipient was accepted.
func (s *Sender) transaction(c *client, j *job, rs []*rcptState) error {
	mail := "MAIL FROM:<" + j.reversePath + ">"
	if c.has("SIZE") {
		mail += fmt.Sprintf(" SIZE=%d", len(j.msg))
	}
	if c.has("8BITMIME") {
		mail += " BODY=8BITMIME"
	}
	if c.has("PIPELINING") {
		return s.pipelined(c, j, mail, rs)
	}
	rep, err := c.cmd(mail)
	if err != nil {
		return err
	}
	if rep.Code != 250 {
		return s.mailRefused(c, rep, rs)
	}
	for _, r := range rs {
		rep, err := c.cmd("RCPT TO:<" + r.path + ">")
		if err != nil {
			return err
		}
		r.setReply(c.host, rep)
	}
	return s.data(c, j, rs)
}

func (s *Sender) pipelined(c *client, j *job, mail string, rs []*rcptState) error {
	if err := c.send(mail); err != nil {
		return err
	}
	for _, r := range rs {
		if err := c.send("RCPT TO:<" + r.path + ">"); err != nil {
			return err
		}
	}
	if err := c.flush(); err != nil {
		return err
	}
	mrep, err := c.read()
	if err != nil {
		return err
	}
	// Every RCPT gets a reply even after a refused MAIL; read them all so
	// the stream stays in step.
	reps := make([]reply, len(rs))
	for i := range rs {
		if reps[i], err = c.read(); err != nil {
			// A server that refuses with 421 closes the connection (RFC
			// 5321 §3.8): its reply, not the EOF after it, is the reason.
			if mrep.Code != 250 {
				return &replyError{Step: "MAIL FROM", Reply: mrep}
			}
			if i > 0 && reps[i-1].Code == 421 {
				return &replyError{Step: "RCPT TO", Reply: reps[i-1]}
			}
			return err
		}
	}
	if mrep.Code != 250 {
		return s.mailRefused(c, mrep, rs)
	}
	for i, r := range rs {
		r.setReply(c.host, reps[i])
	}
	return s.data(c, j, rs)
}

// mailRefused records a refused MAIL FROM for every recipient: the sender
// was refused, so each recipient shares that answer.
func (s *Sender) mailRefused(c *client, rep reply, rs []*rcptState) error {
	for _, r := range rs {
		r.setReply(c.host, rep)
		r.reply = "MAIL FROM: " + r.reply
	}
	c.quit()
	return nil
}

// data sends the message when at least one RCPT was accepted and records
// the final reply for the accepted recipients.
func (s *Sender) data(c *client, j *job, rs []*rcptState) error {
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
		return nil
	}
	rep, err := c.cmd("DATA")
	if err != nil {
		return err
	}
	if rep.Code != 354 {
		for _, r := range accepted {
			r.setReply(c.host, rep)
			r.reply = "DATA: " + r.reply
		}
		return nil
	}
	if err := writeData(c.dc, j.msg); err != nil {
		return fmt.Errorf("sending message to %s: %w", c.host, err)
	}
	// The server may take long to accept the data (content checks), so
	// the final reply gets its own, longer timeout (RFC 5321 §4.5.3.2.6).
	c.dc.readTimeout = max(s.cfg.DataTimeout, s.cfg.IOTimeout)
	rep, err = c.read()
	c.dc.readTimeout = s.cfg.IOTimeout
	if err != nil {
		return err
	}
	for _, r := range accepted {
		r.setReply(c.host, rep)
	}
	return nil
}
