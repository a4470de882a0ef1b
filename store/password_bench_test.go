package store_test

import (
	"context"
	"testing"
)

// BenchmarkCheckPassword is one login after another, as POP3 clients that
// each log in, fetch their mail and leave make them: the checks do not
// overlap, so every one ends with no other check running.
func BenchmarkCheckPassword(b *testing.B) {
	db, _ := openTemp(b)
	n := addUsers(b, db, "Bench")[0]
	if err := db.SetPassword(n, "secret"); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		if ok, err := db.CheckPassword(ctx, n, "secret"); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}
