// Command heapshape builds a Go heap of known shape, records
// runtime.MemStats in a sidecar JSON file and then crashes, so that the
// kernel writes a core file that goheap's tests can compare with the sidecar.
//
// Usage:
//
//	GOTRACEBACK=crash heapshape flushed|unflushed [SIDECAR]
//
// SIDECAR defaults to sidecar.json in the current directory.
// scripts/make-cores.sh runs it (with `ulimit -c unlimited`).
//
// The heap holds, in package-level variables:
//   - objects of every small size class 1..67, both pointer-containing
//     ("scan") and pointer-free ("noscan"; class 1 has no noscan objects
//     because pointer-free objects under 16 bytes always go to the tiny
//     allocator), with garbage objects of the same class interleaved;
//   - tiny allocations (new(int32), new(int64), 1..15 byte slices, short
//     strings);
//   - large objects (> 32 KiB), scan and noscan, two of them > 1 MiB;
//   - maps (map[string]*node, map[int]int), slices of pointers, a linked
//     list, arrays of structs with pointers between 512 B and 32 KiB, strings.
//
// Modes:
//   - flushed: crash right after writing the sidecar. ReadMemStats flushes
//     every mcache, so the core's allocation counters match the sidecar.
//   - unflushed: after ReadMemStats, allocate exactly postAllocCount
//     pointer-free objects of postAllocSize bytes (size class 6) that stay
//     in the mcache, unflushed; the sidecar records them as post_alloc.
//
// Nothing else is allocated on the Go heap after runtime.ReadMemStats: the
// sidecar file is opened and its buffer allocated beforehand, the JSON is
// formatted with strconv.Append* into that buffer and written with
// syscall.Write, and what the runtime itself would allocate lazily (new
// threads, per-P timer heaps, Go 1.21's panic _defer record) is provoked
// beforehand by warmUpRuntime. readSettledMemStats waits for the heap's
// page counts to settle after the GCs. So the runtime counters in the core
// equal the sidecar's exactly (plus post_alloc), and so do HeapInuse and
// HeapIdle (HeapReleased may grow: the scavenger needs no allocation).
//
// With GOHEAP_WAIT_FOR_GCORE=1 the program does not crash: after writing the
// sidecar it prints READY on stdout and blocks (in the same function that
// would have panicked), so that a core can be taken with gdb's gcore; a
// SIGABRT then ends it and, with GOTRACEBACK=crash, prints all goroutines.
//
// With GOHEAP_CHECK_NOALLOC=1 the program calls ReadMemStats a second time
// after writing the sidecar and reports on stderr whether anything was
// allocated (for testing this program only: the second ReadMemStats flushes
// the mcaches, which defeats the unflushed mode).
package main

import (
	"goheap.test/sidecar"
	"os"
	"runtime"
	"strconv"
	"time"
)

const program = "heapshape"

// The objects allocated after ReadMemStats in unflushed mode.
const (
	postAllocSize  = 64 // bytes; size class 6, pointer-free
	postAllocCount = 50
)

// sizeClasses is the runtime's object size per size class (class 0 = large).
// The table is identical in Go 1.21 through 1.27.
var sizeClasses = [...]int{
	0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224,
	240, 256, 288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896,
	1024, 1152, 1280, 1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456,
	4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240, 10880,
	12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264,
	28672, 32768,
}

const (
	// Since Go 1.22, objects with pointers larger than this get an 8-byte
	// malloc header in front of them, before rounding up to a size class.
	maxHeaderlessSize = 512
	mallocHeaderSize  = 8
)

// pair is a 16-byte element: one pointer word, one scalar word.
type pair struct {
	p *int64
	x uintptr
}

// node is a 40-byte object (size class 5, 48 bytes) with three pointers.
type node struct {
	id   int
	name string
	next *node
	val  *int64
}

// rec is a 48-byte element with one pointer word.
type rec struct {
	p *int64
	x [5]int
}

var (
	// Per size class objects (several per class).
	scanPairs   [][]pair   // scan objects made of (pointer, scalar) pairs
	scanPtrs    [][]*int64 // scan objects made of pointers only
	noscanBytes [][]byte   // pointer-free objects

	// Tiny allocations.
	tinyInt32 []*int32
	tinyInt64 []*int64
	tinyBytes [][]byte
	strs      []string

	// Large objects.
	largeNoscan [][]byte
	largePtrs   [][]*int64
	largePairs  []pair
	largeRecs   *[800]rec

	// Pointer structures.
	nodes   []*node // slice of pointers; nodes[i].next == nodes[i-1]
	head    *node
	byName  map[string]*node
	squares map[int]int

	// Arrays of structs with pointers, 512 B .. 32 KiB (malloc headers).
	recs20  []*[20]rec
	recs100 []*[100]rec
	recs600 []*[600]rec

	// Garbage: each assignment drops the previous value.
	sinkBytes []byte
	sinkPairs []pair
	sinkPtrs  []*int64
	sinkInt32 *int32
	sinkNode  *node
	sinkStr   string

	// Goroutines parked for the lifetime of the program.
	blockCh chan int      // nobody ever sends on it
	never   chan struct{} // nil: receiving blocks forever

	// Filled after ReadMemStats in unflushed mode; lives in .bss.
	postAlloc [postAllocCount]*[postAllocSize]byte
)

// perClass is how many live objects of each kind a size class gets.
func perClass(size int) int {
	switch {
	case size <= 1024:
		return 20
	case size <= 4096:
		return 12
	case size <= 12288:
		return 6
	default:
		return 3
	}
}

func fill(b []byte, v byte) []byte {
	for i := range b {
		b[i] = v
	}
	return b
}

// scanObject allocates a pointer-containing object whose size class is
// class and either keeps it or drops it.
func scanObject(class int, keep bool) {
	size := sizeClasses[class]
	if size > maxHeaderlessSize {
		size -= mallocHeaderSize // same class with or without the header
	}
	words := size / 8
	if words%2 == 0 {
		s := make([]pair, words/2)
		for j := range s {
			s[j] = pair{tinyInt64[(class+j)%len(tinyInt64)], uintptr(class)}
		}
		if keep {
			scanPairs = append(scanPairs, s)
		} else {
			sinkPairs = s
		}
		return
	}
	s := make([]*int64, words)
	for j := range s {
		s[j] = tinyInt64[(class+j)%len(tinyInt64)]
	}
	if keep {
		scanPtrs = append(scanPtrs, s)
	} else {
		sinkPtrs = s
	}
}

func buildTiny() {
	for i := 0; i < 1000; i++ {
		v := new(int64)
		*v = int64(i) * 7
		tinyInt64 = append(tinyInt64, v)
	}
	for i := 0; i < 3000; i++ {
		v := new(int32)
		*v = int32(i)
		tinyInt32 = append(tinyInt32, v)
		sinkInt32 = new(int32) // garbage
	}
	for i := 0; i < 1000; i++ {
		tinyBytes = append(tinyBytes, fill(make([]byte, 1+i%15), byte(i)))
	}
	for i := 0; i < 2000; i++ {
		strs = append(strs, "s"+strconv.Itoa(i))
		sinkStr = "garbage-" + strconv.Itoa(i)
	}
	long := "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopq"
	for i := 0; i < 200; i++ {
		strs = append(strs, long+strconv.Itoa(i)) // ~104 bytes: class 9 noscan
	}
}

func buildClasses() {
	for class := 1; class < len(sizeClasses); class++ {
		size := sizeClasses[class]
		for i := 0; i < perClass(size); i++ {
			scanObject(class, true)
			scanObject(class, false)
			if size >= 16 { // smaller pointer-free objects are tiny allocations
				noscanBytes = append(noscanBytes, fill(make([]byte, size), byte(class)))
				sinkBytes = make([]byte, size)
			}
		}
	}
}

func buildLarge() {
	for _, n := range []int{40 << 10, 100 << 10, 300 << 10, 3 << 20} {
		largeNoscan = append(largeNoscan, fill(make([]byte, n), byte(n>>10)))
		sinkBytes = make([]byte, n/2)
	}
	for _, n := range []int{5000, 160000} { // 40000 B and 1.28 MB
		s := make([]*int64, n)
		for j := range s {
			s[j] = tinyInt64[j%len(tinyInt64)]
		}
		largePtrs = append(largePtrs, s)
	}
	largePairs = make([]pair, 12000) // 192000 B
	for j := range largePairs {
		largePairs[j] = pair{tinyInt64[j%len(tinyInt64)], uintptr(j)}
	}
	largeRecs = new([800]rec) // 38400 B
	for j := range largeRecs {
		largeRecs[j].p = tinyInt64[j%len(tinyInt64)]
		largeRecs[j].x[0] = j
	}
}

func buildNodes() {
	for i := 0; i < 150000; i++ {
		n := &node{id: i, name: "node-" + strconv.Itoa(i), next: head, val: tinyInt64[i%len(tinyInt64)]}
		if i%3 == 0 {
			n.val = new(int64)
			*n.val = int64(i)
		}
		head = n
		nodes = append(nodes, n)
		sinkNode = &node{id: -i}
	}
	byName = make(map[string]*node)
	for _, n := range nodes[:3000] {
		byName[n.name] = n
	}
	squares = make(map[int]int)
	for i := 0; i < 5000; i++ {
		squares[i] = i * i
	}
}

func buildArrays() {
	for i := 0; i < 10; i++ {
		a := new([20]rec) // 960 B + header: class 32 (1024)
		for j := range a {
			a[j] = rec{p: tinyInt64[(i+j)%len(tinyInt64)], x: [5]int{i, j}}
		}
		recs20 = append(recs20, a)
	}
	for i := 0; i < 6; i++ {
		a := new([100]rec) // 4800 B + header: class 45 (4864)
		for j := range a {
			a[j].p = tinyInt64[(i+j)%len(tinyInt64)]
		}
		recs100 = append(recs100, a)
	}
	for i := 0; i < 3; i++ {
		a := new([600]rec) // 28800 B + header: class 67 (32768)
		for j := range a {
			a[j].p = tinyInt64[(i+j)%len(tinyInt64)]
		}
		recs600 = append(recs600, a)
	}
}

func receiver() { <-blockCh }

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

	buildTiny()
	buildClasses()
	buildLarge()
	buildNodes()
	buildArrays()
	sinkBytes, sinkPairs, sinkPtrs, sinkInt32, sinkNode, sinkStr = nil, nil, nil, nil, nil, ""

	blockCh = make(chan int)
	go receiver()
	go sleeper()
	time.Sleep(20 * time.Millisecond) // let them park

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
	panic("heapshape: deliberate crash")
}
