//go:build !go1.24

package main

// buildNewSpecials: cleanups and weak pointers need Go 1.24.
func buildNewSpecials() {}
