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
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
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
	warmUpRuntime()
	openSidecar(sidecarPath)

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
		<-never // blocks forever; the sleeper's timer keeps the deadlock detector quiet
	}
	panic("tiny: deliberate crash")
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
	statusFD = -1   // /proc/self/status, opened before ReadMemStats
	statusB  []byte // pre-allocated buffer to read it into
	threads  uint64 // OS threads at the last ReadMemStats
	pid      int
	readyMsg = []byte("READY\n")
)

// readSettledMemStats reads MemStats into ms until the page counts have
// not changed for 3 consecutive 10ms intervals (or 3s have passed): after
// runtime.GC returns, the background sweeper may still be returning GC work
// buffers to the heap, which would move pages from in use to idle between
// the snapshot and the crash.
func readSettledMemStats() {
	threads = countThreads()
	runtime.ReadMemStats(&ms)
	for i, stable := 0, 0; i < 300 && stable < 3; i++ {
		msPrev = ms
		ts := syscall.Timespec{Nsec: 10 * 1000 * 1000}
		syscall.Nanosleep(&ts, nil)
		threads = countThreads()
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
	statusFD, err = syscall.Open("/proc/self/status", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		println(program+": cannot open /proc/self/status:", err.Error())
		os.Exit(1)
	}
	statusB = make([]byte, 8<<10)
}

// countThreads returns the "Threads:" count of /proc/self/status without allocating, so
// the test can tell how many threads (each with a runtime.m and two runtime.g on the heap)
// the runtime started after the last ReadMemStats.
func countThreads() uint64 {
	n, err := syscall.Pread(statusFD, statusB, 0)
	if err != nil {
		return 0
	}
	b := statusB[:n]
	const key = "\nThreads:"
	for i := 0; i+len(key) <= len(b); i++ {
		if string(b[i:i+len(key)]) != key {
			continue
		}
		var v uint64
		for j := i + len(key); j < len(b) && b[j] != '\n'; j++ {
			if c := b[j]; c >= '0' && c <= '9' {
				v = v*10 + uint64(c-'0')
			}
		}
		return v
	}
	return 0
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
	b = appendField(b, false, "threads", threads)
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
