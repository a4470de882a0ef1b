// Package cescape decodes the C escape sequences Synchronet allows in its
// ini values and filter lists (it reads both with the same C routine).
//
// It is a leaf: the ini parser and the pattern matcher share it, and it
// imports nothing but the standard library.
package cescape
