// Command bigheap builds a large Go heap (about 2 GB in about 15 million
// objects over many size classes, plus tiny and large objects and maps) and
// 10 000 goroutines parked in various ways, records runtime.MemStats in a
// sidecar JSON file and crashes, so that the kernel writes a big core file
// for benchmarking goheap. bench/make-core.sh runs it.
//
// Usage:
//
//	GOTRACEBACK=crash bigheap flushed|unflushed [SIDECAR]
//
// It follows the same protocol as testdata/heapshape (see there): sidecar
// schema, unflushed mode, GOHEAP_WAIT_FOR_GCORE=1, GOHEAP_CHECK_NOALLOC=1.
// The heap is deterministic apart from map layouts and runtime internals.
package main

import (
	"goheap.test/sidecar"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

const program = "bigheap"

const (
	postAllocSize  = 64
	postAllocCount = 50
)

// Scale: objects of each kind (see buildHeap).
const (
	nTinyInts    = 3_000_000 // new(int64): 2 per 16-byte tiny block
	nTinyBytes   = 1_000_000 // 1..15 byte []byte: tiny blocks
	nNodes       = 4_500_000 // 48-byte scan objects in a linked list
	nPairs       = 1_500_000 // 16-byte scan objects
	nSmallNoscan = 3_000_000 // 16..271 byte []byte
	nSmallScan   = 2_000_000 // 1..32 pointers
	nStrings     = 1_500_000 // 16..63 byte strings
	nMedium      = 36_000    // 512 B .. 32 KiB, scan and noscan (2/3 kept)
	nMapEntries  = 1_000_000 // map[int]*node
	nStrMap      = 100_000   // map[string]int

	nGoroutines = 10_000
)

const chunk = 1 << 20

// store keeps values alive in 1M-element chunks (large objects).
type store[T any] struct {
	chunks [][]T
}

func (s *store[T]) add(v T) {
	n := len(s.chunks)
	if n == 0 || len(s.chunks[n-1]) == cap(s.chunks[n-1]) {
		s.chunks = append(s.chunks, make([]T, 0, chunk))
		n++
	}
	s.chunks[n-1] = append(s.chunks[n-1], v)
}

type node struct {
	id   int
	next *node
	val  *int64
	pad  [2]uintptr
}

type pair struct {
	p *node
	x uintptr
}

type rec struct {
	p *node
	x [5]int
}

var (
	tinyInts    store[*int64]
	tinyBytes   store[[]byte]
	head        *node
	recent      [4096]*node
	pairs       store[*pair]
	smallNoscan store[[]byte]
	smallScan   store[[]*node]
	strs        store[string]
	medScan     [][]*node
	medRecs     []*[100]rec
	medNoscan   [][]byte
	largeNoscan [][]byte
	largeScan   [][]*node
	byID        map[int]*node
	byName      map[string]int

	sink []byte // garbage

	// Goroutine parking places.
	shared   chan int
	sendOnly chan int
	selA     chan int
	selB     chan string
	own      []chan int
	mu       sync.Mutex // held by main forever
	condMu   sync.Mutex
	cond     *sync.Cond
	never    chan struct{}

	postAlloc [postAllocCount]*[postAllocSize]byte
)

// rng is a xorshift64* generator: deterministic across Go versions.
var rngState uint64 = 0x9E3779B97F4A7C15

func rng(n int) int {
	rngState ^= rngState >> 12
	rngState ^= rngState << 25
	rngState ^= rngState >> 27
	return int((rngState * 2685821657736338717) >> 33 % uint64(n))
}

func randomNode() *node { return recent[rng(len(recent))] }

func buildHeap() {
	for i := 0; i < nTinyInts; i++ {
		v := new(int64)
		*v = int64(i)
		tinyInts.add(v)
	}
	for i := 0; i < nTinyBytes; i++ {
		tinyBytes.add(make([]byte, 1+i%15))
	}
	for i := 0; i < nNodes; i++ {
		n := &node{id: i, next: head}
		n.val = tinyInts.chunks[i%nTinyInts/chunk][i%nTinyInts%chunk]
		head = n
		recent[i%len(recent)] = n
		if i%7 == 0 {
			sink = make([]byte, 48) // garbage, so that spans have free slots
		}
	}
	for i := 0; i < nPairs; i++ {
		pairs.add(&pair{p: randomNode(), x: uintptr(i)})
	}
	for i := 0; i < nSmallNoscan; i++ {
		b := make([]byte, 16+rng(256))
		b[0] = byte(i)
		smallNoscan.add(b)
		if i%5 == 0 {
			sink = make([]byte, 16+rng(256))
		}
	}
	for i := 0; i < nSmallScan; i++ {
		s := make([]*node, 1+rng(32))
		for j := range s {
			s[j] = randomNode()
		}
		smallScan.add(s)
	}
	pad := "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz"
	for i := 0; i < nStrings; i++ {
		s := strconv.Itoa(i)
		strs.add(s + pad[:16+rng(48)-len(s)%16])
	}
	for i := 0; i < nMedium; i++ {
		size := 512 + rng(32768-512-8)
		switch i % 3 {
		case 0:
			s := make([]*node, size/8)
			for j := 0; j < len(s); j += 8 {
				s[j] = randomNode()
			}
			medScan = append(medScan, s)
		case 1:
			b := make([]byte, size)
			b[0] = byte(i)
			medNoscan = append(medNoscan, b)
		default:
			if i%30 == 2 {
				r := new([100]rec) // 4800 bytes + header
				r[0].p = randomNode()
				medRecs = append(medRecs, r)
			} else {
				sink = make([]byte, size) // garbage
			}
		}
	}
	for i := 0; i < 100; i++ {
		largeNoscan = append(largeNoscan, make([]byte, 1<<20+rng(1<<20)))
	}
	for i := 0; i < 50; i++ {
		s := make([]*node, 256*1024) // 2 MiB
		for j := 0; j < len(s); j += 64 {
			s[j] = randomNode()
		}
		largeScan = append(largeScan, s)
	}
	largeNoscan = append(largeNoscan, make([]byte, 32<<20), make([]byte, 32<<20))
	byID = make(map[int]*node)
	for i := 0; i < nMapEntries; i++ {
		byID[i] = randomNode()
	}
	byName = make(map[string]int)
	for i := 0; i < nStrMap; i++ {
		byName["key-"+strconv.Itoa(i)] = i
	}
	sink = nil
}

// nest recurses depth times before calling park, so that parked
// goroutines have stacks of various depths.
//
//go:noinline
func nest(depth int, park func()) int {
	if depth > 0 {
		return nest(depth-1, park) + 1
	}
	park()
	return 0
}

func startGoroutines() {
	shared = make(chan int)
	sendOnly = make(chan int)
	selA = make(chan int)
	selB = make(chan string)
	cond = sync.NewCond(&condMu)
	mu.Lock()
	var started sync.WaitGroup
	started.Add(nGoroutines)
	for i := 0; i < nGoroutines; i++ {
		depth := i % 20
		var park func()
		switch {
		case i < 3000: // receive on its own channel
			c := make(chan int)
			own = append(own, c)
			park = func() { started.Done(); <-c }
		case i < 4500: // receive on a shared channel
			park = func() { started.Done(); <-shared }
		case i < 6000: // select
			park = func() {
				started.Done()
				select {
				case <-selA:
				case <-selB:
				}
			}
		case i < 7500: // sync.Mutex held by main
			park = func() { started.Done(); mu.Lock() }
		case i < 8500: // sleep
			park = func() { started.Done(); time.Sleep(time.Hour) }
		case i < 9250: // sync.Cond
			park = func() {
				condMu.Lock()
				started.Done()
				cond.Wait()
			}
		default: // send nobody receives
			park = func() { started.Done(); sendOnly <- 1 }
		}
		go nest(depth, park)
	}
	started.Wait()
	time.Sleep(200 * time.Millisecond) // let them all park
}

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

	t0 := time.Now()
	buildHeap()
	t1 := time.Now()
	startGoroutines()
	sidecar.WarmUpRuntime()
	sidecar.Open(program, sidecarPath)
	println(program+": heap built in", int(t1.Sub(t0).Milliseconds()), "ms; goroutines started in",
		int(time.Since(t1).Milliseconds()), "ms")

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
		<-never // blocks forever; the sleepers' timers keep the deadlock detector quiet
	}
	panic("bigheap: deliberate crash")
}
