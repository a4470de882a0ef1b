package test

import (
	"os"
	"sort"
)

func sortStrings(s []string) { sort.Strings(s) }

func fileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}
