package ars_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/bbsmail/bbsmail/ars"
)

// Parse once when the configuration loads, warn about what the mail server
// cannot evaluate, then check each login.
func Example() {
	login, err := ars.Parse("LEVEL 20 AND NOT REST L OR SYSOP")
	if err != nil {
		fmt.Println("LoginRequirements:", err)
		return
	}
	fmt.Println("read as:", login)
	for _, w := range login.Warnings() {
		fmt.Println("warning:", w)
	}

	user := ars.Subject{
		Number:   12,
		Alias:    "Reader",
		Level:    30,
		Restrict: "L",
		IP:       netip.MustParseAddr("192.0.2.7"),
		Protocol: "POP3",
		Now:      time.Date(2024, 3, 13, 14, 30, 0, 0, time.UTC),
	}
	fmt.Println("restricted reader may log in:", login.Eval(user))
	user.Restrict = ""
	fmt.Println("reader may log in:", login.Eval(user))
	// Output:
	// read as: LEVEL 20 AND (NOT REST L OR SYSOP)
	// warning: AND and OR are mixed without parentheses; read as: LEVEL 20 AND (NOT REST L OR SYSOP)
	// restricted reader may log in: false
	// reader may log in: true
}

func ExampleParse_error() {
	_, err := ars.Parse("LEVEL 20 AND SYSOPS")
	fmt.Println(err)
	// Output:
	// ars: column 14 near "SYSOPS": unknown word
}
