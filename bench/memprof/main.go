// Command memprof builds a memory profile with many buckets, for benchmarking
// goheap's `profile -o`: with runtime.MemProfileRate = 1, it allocates from
// 2^17 = 131072 distinct call paths (a binary tree of two non-inlined
// functions, 17 levels deep, so each stack has about 40 frames) in two object
// sizes, keeping half of the objects, then crashes (GOTRACEBACK=crash) so that
// the kernel writes a core. bench/whoalloc.sh runs it.
package main

import (
	"os"
	"runtime"
	"runtime/debug"
)

const depth = 17

var (
	kept  [][]byte
	sink  []byte
	never chan struct{}
)

func init() { runtime.MemProfileRate = 1 }

//go:noinline
func walk(path uint32, d int) {
	if d == 0 {
		leaf(path)
		return
	}
	if path&1 == 0 {
		left(path>>1, d-1)
	} else {
		right(path>>1, d-1)
	}
}

//go:noinline
func left(path uint32, d int) { walk(path, d) }

//go:noinline
func right(path uint32, d int) { walk(path, d) }

//go:noinline
func leaf(path uint32) {
	kept = append(kept, make([]byte, 24))
	sink = make([]byte, 200)
}

func main() {
	debug.SetGCPercent(-1)
	kept = make([][]byte, 0, 1<<depth)
	for p := uint32(0); p < 1<<depth; p++ {
		walk(p, depth)
	}
	sink = nil
	runtime.GC()
	runtime.GC()
	var r [1]runtime.MemProfileRecord
	n, _ := runtime.MemProfile(r[:], true)
	println("memprof:", n, "memory-profile records")
	if len(os.Args) > 1 && os.Args[1] == "wait" {
		<-never
	}
	panic("memprof: deliberate crash")
}
