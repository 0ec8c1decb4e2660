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
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
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
	warmUpRuntime()
	openSidecar(sidecarPath)
	println(program+": heap built in", int(t1.Sub(t0).Milliseconds()), "ms; goroutines started in",
		int(time.Since(t1).Milliseconds()), "ms")

	// No heap allocation from here on, except postAlloc in unflushed mode.
	runtime.GC()
	runtime.GC()
	readSettledMemStats()
	var postSize, postCount uint64
	if mode == "unflushed" {
		for i := range postAlloc {
			postAlloc[i] = new([postAllocSize]byte)
		}
		postSize, postCount = postAllocSize, postAllocCount
	}
	writeSidecar(mode, postSize, postCount)
	if checkNoAlloc {
		checkNothingAllocated(postCount)
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
		writeAll(1, readyMsg)
		<-never // blocks forever; the sleepers' timers keep the deadlock detector quiet
	}
	panic("bigheap: deliberate crash")
}

// warmUpRuntime makes the runtime grow some internal structures now, while
// allocation is still allowed, that it would otherwise allocate on the Go
// heap at unpredictable moments after ReadMemStats:
//   - OS threads: each new M allocates its m and g structs; the scheduler
//     may want one at any time (after a blocking syscall, when the world
//     restarts after ReadMemStats, ...). Ms are never freed, so later needs
//     are met by idle ones.
//   - per-P timer heaps: a slice that grows when a timer is added to a P
//     (for example the background scavenger's sleep after a GC). Slices
//     keep their capacity when timers are removed.
//   - per-P defer pools (Go 1.21): panicking allocates a _defer record for
//     the open-coded defer in runtime.main unless the P's pool has one.
//
// The goroutines spin briefly so that they spread over all Ps, then each
// fills its P's defer pool, sleeps (a timer on its P) and makes a blocking
// syscall (its P is handed to another M).
func warmUpRuntime() {
	var wg sync.WaitGroup
	for i := 0; i < 4*runtime.GOMAXPROCS(0)+4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for start := time.Now(); time.Since(start) < time.Millisecond; {
			}
			fillDeferPool()
			time.Sleep(20 * time.Millisecond)
			ts := syscall.Timespec{Nsec: 20 * 1000 * 1000}
			syscall.Nanosleep(&ts, nil)
		}()
	}
	wg.Wait()
	fillDeferPool()
}

// fillDeferPool runs deferred calls in a loop: such _defer records are
// heap-allocated and, once run, kept in the current P's pool.
//
//go:noinline
func fillDeferPool() {
	for i := 0; i < 8; i++ {
		defer func() {}()
	}
}

// ---- Allocation-free sidecar writer (same code in every goheap test program) ----

var (
	ms       runtime.MemStats // snapshot written to the sidecar
	msPrev   runtime.MemStats // previous snapshot, for readSettledMemStats
	msCheck  runtime.MemStats // second snapshot for GOHEAP_CHECK_NOALLOC
	out      []byte           // pre-allocated JSON buffer
	outFD    = -1
	pid      int
	readyMsg = []byte("READY\n")
)

// readSettledMemStats reads MemStats into ms until the page counts have
// not changed for 3 consecutive 10ms intervals (or 3s have passed): after
// runtime.GC returns, the background sweeper may still be returning GC work
// buffers to the heap, which would move pages from in use to idle between
// the snapshot and the crash.
func readSettledMemStats() {
	runtime.ReadMemStats(&ms)
	for i, stable := 0, 0; i < 300 && stable < 3; i++ {
		msPrev = ms
		ts := syscall.Timespec{Nsec: 10 * 1000 * 1000}
		syscall.Nanosleep(&ts, nil)
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse == msPrev.HeapInuse && ms.HeapIdle == msPrev.HeapIdle &&
			ms.StackInuse == msPrev.StackInuse && ms.Sys == msPrev.Sys {
			stable++
		} else {
			stable = 0
		}
	}
}

// openSidecar does every allocation the sidecar needs, before ReadMemStats.
func openSidecar(path string) {
	fd, err := syscall.Open(path, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_TRUNC|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		println(program+": cannot create sidecar", path+":", err.Error())
		os.Exit(1)
	}
	outFD = fd
	out = make([]byte, 0, 64<<10)
	pid = syscall.Getpid()
}

func appendField(b []byte, first bool, name string, v uint64) []byte {
	if !first {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendUint(b, v, 10)
}

// writeSidecar formats ms into out and writes it, without heap allocation.
func writeSidecar(mode string, postSize, postCount uint64) {
	b := out[:0]
	b = append(b, `{"program":`...)
	b = strconv.AppendQuote(b, program)
	b = append(b, `,"mode":`...)
	b = strconv.AppendQuote(b, mode)
	b = append(b, `,"go_version":`...)
	b = strconv.AppendQuote(b, runtime.Version())
	b = append(b, `,"goarch":`...)
	b = strconv.AppendQuote(b, runtime.GOARCH)
	b = append(b, ',')
	b = appendField(b, true, "pid", uint64(pid))
	b = append(b, `,"memstats":{`...)
	b = appendField(b, true, "Alloc", ms.Alloc)
	b = appendField(b, false, "TotalAlloc", ms.TotalAlloc)
	b = appendField(b, false, "Sys", ms.Sys)
	b = appendField(b, false, "Mallocs", ms.Mallocs)
	b = appendField(b, false, "Frees", ms.Frees)
	b = appendField(b, false, "HeapAlloc", ms.HeapAlloc)
	b = appendField(b, false, "HeapSys", ms.HeapSys)
	b = appendField(b, false, "HeapIdle", ms.HeapIdle)
	b = appendField(b, false, "HeapInuse", ms.HeapInuse)
	b = appendField(b, false, "HeapReleased", ms.HeapReleased)
	b = appendField(b, false, "HeapObjects", ms.HeapObjects)
	b = appendField(b, false, "StackInuse", ms.StackInuse)
	b = appendField(b, false, "StackSys", ms.StackSys)
	b = appendField(b, false, "MSpanInuse", ms.MSpanInuse)
	b = appendField(b, false, "MCacheInuse", ms.MCacheInuse)
	b = appendField(b, false, "NumGC", uint64(ms.NumGC))
	b = append(b, `},"by_size":[`...)
	for i := range ms.BySize {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = appendField(b, true, "size", uint64(ms.BySize[i].Size))
		b = appendField(b, false, "mallocs", ms.BySize[i].Mallocs)
		b = appendField(b, false, "frees", ms.BySize[i].Frees)
		b = append(b, '}')
	}
	b = append(b, `],"post_alloc":{`...)
	b = appendField(b, true, "size", postSize)
	b = appendField(b, false, "count", postCount)
	b = append(b, '}', '}', '\n')
	if cap(b) != cap(out) {
		println(program + ": sidecar buffer too small (it was reallocated)")
		os.Exit(1)
	}
	writeAll(outFD, b)
	syscall.Close(outFD)
}

func writeAll(fd int, p []byte) {
	for len(p) > 0 {
		n, err := syscall.Write(fd, p)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			println(program+": write failed on fd", fd)
			os.Exit(1)
		}
		p = p[n:]
	}
}

// checkNothingAllocated compares a second ReadMemStats with the first one,
// taken 200ms later to give background activity time to show up.
func checkNothingAllocated(postCount uint64) {
	ts := syscall.Timespec{Nsec: 200 * 1000 * 1000}
	syscall.Nanosleep(&ts, nil)
	runtime.ReadMemStats(&msCheck)
	if msCheck.Mallocs == ms.Mallocs+postCount {
		println(program+": noalloc check ok: mallocs", ms.Mallocs, "+", postCount)
	} else {
		println(program+": noalloc check FAILED: mallocs", ms.Mallocs, "+", postCount, "!=", msCheck.Mallocs)
		for i := range ms.BySize {
			if d := msCheck.BySize[i].Mallocs - ms.BySize[i].Mallocs; d != 0 {
				println(program+":   size", ms.BySize[i].Size, "mallocs +", d)
			}
		}
		println(program+":   TotalAlloc +", msCheck.TotalAlloc-ms.TotalAlloc)
	}
}
