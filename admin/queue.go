package admin

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"text/tabwriter"
)

func queueList(_ context.Context, env Env, args []string, sio stdio) error {
	if err := parseNone(flag.NewFlagSet("queue list", flag.ContinueOnError), args); err != nil {
		return err
	}
	list, err := env.DB.QueueList()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(sio.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tQUEUED\tFROM\tTO\tSIZE\tTRIES\tNEXT\tSTATE\tLAST ERROR")
	for _, e := range list {
		state := "waiting"
		if e.InTransit {
			state = "in-transit"
		}
		from := e.ReversePath
		if from == "" {
			from = "<>"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", e.ID, stamp(e.Created), clip(from, 40), clip(e.Rcpt, 40), e.Size, e.Attempts, stamp(e.NextAttempt), state, clip(e.LastError, 60))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(sio.out, "%d entries\n", len(list))
	return nil
}

func queueID(pos []string, optional bool) (uint64, error) {
	if len(pos) == 0 && optional {
		return 0, nil
	}
	if len(pos) != 1 {
		return 0, usagef("want ID")
	}
	id, err := strconv.ParseUint(pos[0], 10, 64)
	if err != nil || id == 0 {
		return 0, usagef("bad queue ID %q", pos[0])
	}
	return id, nil
}

func queueRetry(_ context.Context, env Env, args []string, sio stdio) error {
	pos, err := parse(flag.NewFlagSet("queue retry", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	id, err := queueID(pos, true)
	if err != nil {
		return err
	}
	if err := env.DB.QueueRetry(id); err != nil {
		return err
	}
	if env.Wake != nil {
		env.Wake()
	}
	if id == 0 {
		fmt.Fprintln(sio.out, "every queue entry is due now")
	} else {
		fmt.Fprintf(sio.out, "queue entry %d is due now\n", id)
	}
	return nil
}

func queueDrop(_ context.Context, env Env, args []string, sio stdio) error {
	pos, err := parse(flag.NewFlagSet("queue drop", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	id, err := queueID(pos, false)
	if err != nil {
		return err
	}
	if err := env.DB.QueueDrop(id); err != nil {
		return err
	}
	fmt.Fprintf(sio.out, "queue entry %d dropped\n", id)
	return nil
}

func queueClearTransit(_ context.Context, env Env, args []string, sio stdio) error {
	if err := parseNone(flag.NewFlagSet("queue clear-transit", flag.ContinueOnError), args); err != nil {
		return err
	}
	n, err := env.DB.QueueClearTransit()
	if err != nil {
		return err
	}
	if env.Wake != nil {
		env.Wake()
	}
	fmt.Fprintf(sio.out, "%d entries no longer in transit\n", n)
	return nil
}
