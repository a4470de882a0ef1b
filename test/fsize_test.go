package test

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// fsizeEnv, in the environment of this test binary, makes it set
// RLIMIT_FSIZE to its value and exec the rest of its command line: the
// limit then holds for that program alone, not for the tests that run
// beside it.
const fsizeEnv = "BBSMAIL_TEST_FSIZE"

// fileSizeLimited returns cmd run under RLIMIT_FSIZE limit (bytes),
// through this test binary.
func fileSizeLimited(cmd *exec.Cmd, limit int64) *exec.Cmd {
	self, err := os.Executable()
	if err != nil {
		panic(err)
	}
	wrapped := exec.Command(self, append([]string{cmd.Path}, cmd.Args[1:]...)...)
	wrapped.Stdin, wrapped.Stdout, wrapped.Stderr = cmd.Stdin, cmd.Stdout, cmd.Stderr
	wrapped.Env = append(append([]string{}, cmd.Env...), fsizeEnv+"="+strconv.FormatInt(limit, 10))
	return wrapped
}

// execWithFileSizeLimit is the other side of fileSizeLimited: it runs
// before the tests' flags are parsed and never returns. The server starts
// with SIGXFSZ at its default action (exec resets this binary's handler),
// as under a shell's ulimit -f: what it does about it is part of the test.
func execWithFileSizeLimit(limit string) {
	n, err := strconv.ParseUint(limit, 10, 64)
	if err == nil {
		var lim syscall.Rlimit
		if err = syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim); err == nil {
			// The hard limit stays: the test may raise the soft one
			// while the server runs.
			lim.Cur = n
			err = syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim)
		}
	}
	if err == nil && len(os.Args) < 2 {
		err = fmt.Errorf("no program to run")
	}
	if err == nil {
		env := []string{}
		for _, e := range os.Environ() {
			if len(e) < len(fsizeEnv)+1 || e[:len(fsizeEnv)+1] != fsizeEnv+"=" {
				env = append(env, e)
			}
		}
		err = syscall.Exec(os.Args[1], os.Args[1:], env)
	}
	fmt.Fprintf(os.Stderr, "%s=%s: %v\n", fsizeEnv, limit, err)
	os.Exit(127)
}
