// Command tiny is the smallest goheap test program: it builds a heap of a
// few hundred objects in several size classes, records runtime.MemStats in
// a sidecar JSON file and crashes, so that the kernel writes a small core
// file (the README example).
//
// Usage:
//
//	GOTRACEBACK=crash tiny flushed|unflushed [SIDECAR]
//
// It follows the same protocol as testdata/heapshape (see there): sidecar
// schema, unflushed mode (postAllocCount objects of postAllocSize bytes
// allocated after ReadMemStats), GOHEAP_WAIT_FOR_GCORE=1 and
// GOHEAP_CHECK_NOALLOC=1.
package main

import (
	"goheap.test/sidecar"
	"os"
	"runtime"
	"strconv"
	"time"
)

const program = "tiny"

const (
	postAllocSize  = 64
	postAllocCount = 50
)

// node is 32 bytes (size class 4) with two pointers.
type node struct {
	id   int
	next *node
	name string
}

// rec is a 48-byte element with one pointer word; [20]rec is 960 bytes,
// which (with the 8-byte malloc header of Go 1.22+) is size class 32.
type rec struct {
	p *int64
	x [5]int
}

var (
	counters []*int64         // 64 tiny allocations (8 bytes, pointer-free)
	head     *node            // linked list of 64 nodes (32 bytes, scan)
	names    map[string]*node // small map
	blobs    [][]byte         // 32 x 100 bytes pointer-free (class 9, 112 bytes)
	ptrs     [][]*int64       // 16 x 64 pointers (512 bytes, scan)
	recs     []*[20]rec       // 8 x 960 bytes (class 32, 1024 bytes)
	pages    [][]byte         // 4 x 3000 bytes pointer-free (class 41, 3072 bytes)
	big      []byte           // one large object (40 KiB)
	greeting string

	sink  []byte // garbage
	never chan struct{}

	postAlloc [postAllocCount]*[postAllocSize]byte
)

func buildHeap() {
	for i := 0; i < 64; i++ {
		v := new(int64)
		*v = int64(i)
		counters = append(counters, v)
	}
	names = make(map[string]*node)
	for i := 0; i < 64; i++ {
		head = &node{id: i, next: head, name: "n" + strconv.Itoa(i)}
		if i%2 == 0 {
			names[head.name] = head
		}
	}
	for i := 0; i < 32; i++ {
		b := make([]byte, 100)
		for j := range b {
			b[j] = byte(i)
		}
		blobs = append(blobs, b)
		sink = make([]byte, 100)
	}
	for i := 0; i < 16; i++ {
		p := make([]*int64, 64)
		for j := range p {
			p[j] = counters[(i+j)%len(counters)]
		}
		ptrs = append(ptrs, p)
	}
	for i := 0; i < 8; i++ {
		r := new([20]rec)
		for j := range r {
			r[j] = rec{p: counters[j], x: [5]int{i, j}}
		}
		recs = append(recs, r)
	}
	for i := 0; i < 4; i++ {
		pages = append(pages, make([]byte, 3000))
	}
	big = make([]byte, 40<<10)
	greeting = "hello from " + program + " " + strconv.Itoa(len(big))
	sink = nil
}

func sleeper() { time.Sleep(time.Hour) }

func main() {
	if len(os.Args) < 2 || len(os.Args) > 3 || (os.Args[1] != "flushed" && os.Args[1] != "unflushed") {
		println("usage: " + program + " flushed|unflushed [SIDECAR]")
		os.Exit(2)
	}
	mode := os.Args[1]
	sidecarPath := "sidecar.json"
	if len(os.Args) == 3 {
		sidecarPath = os.Args[2]
	}
	waitForGcore := os.Getenv("GOHEAP_WAIT_FOR_GCORE") == "1"
	checkNoAlloc := os.Getenv("GOHEAP_CHECK_NOALLOC") == "1"

	buildHeap()
	go sleeper()
	time.Sleep(10 * time.Millisecond) // let it park
	sidecar.WarmUpRuntime()
	sidecar.Open(program, sidecarPath)

	// No heap allocation from here on, except postAlloc in unflushed mode.
	runtime.GC()
	runtime.GC()
	sidecar.ReadSettledMemStats()
	var postSize, postCount uint64
	if mode == "unflushed" {
		for i := range postAlloc {
			postAlloc[i] = new([postAllocSize]byte)
		}
		postSize, postCount = postAllocSize, postAllocCount
	}
	sidecar.Write(mode, postSize, postCount, nil)
	if checkNoAlloc {
		sidecar.CheckNothingAllocated(postCount)
	}
	crashOuter(waitForGcore)
}

//go:noinline
func crashOuter(waitForGcore bool) int {
	return crashInner(waitForGcore) + 1
}

//go:noinline
func crashInner(waitForGcore bool) int {
	if waitForGcore {
		sidecar.WriteAll(1, sidecar.ReadyMsg)
		<-never // blocks forever; the sleeper's timer keeps the deadlock detector quiet
	}
	panic("tiny: deliberate crash")
}
