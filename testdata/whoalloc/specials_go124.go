//go:build go1.24

package main

import (
	"runtime"
	"unsafe"
	"weak"
)

type cleanObj struct {
	id   int
	next *node
	pad  [6]int
}

var weakPtr weak.Pointer[cleanObj]

//go:noinline
func newCleaned() *cleanObj {
	c := &cleanObj{id: 5}
	runtime.AddCleanup(c, cleanupFunc, 42)
	return c
}

func cleanupFunc(x int) { sinkByte = byte(x) }

//go:noinline
func newWeak() *cleanObj { return &cleanObj{id: 6} }

// buildNewSpecials adds an object with a cleanup and one with a weak handle.
func buildNewSpecials() {
	c := newCleaned()
	record(obj{name: "cleanup", addr: uintptr(unsafe.Pointer(c)), size: unsafe.Sizeof(*c), ptrs: true, fn: "main.newCleaned", specials: "cleanup"}, c)
	w := newWeak()
	weakPtr = weak.Make(w)
	record(obj{name: "weak", addr: uintptr(unsafe.Pointer(w)), size: unsafe.Sizeof(*w), ptrs: true, fn: "main.newWeak", specials: "weak_handle"}, w)
}
