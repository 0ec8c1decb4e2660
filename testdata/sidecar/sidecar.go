// Package sidecar is the part every goheap test program shares: it warms the runtime up so
// that it allocates nothing by itself later, takes a settled runtime.ReadMemStats snapshot
// and writes it, with the program's own facts, to a sidecar JSON file, all without
// allocating on the Go heap after the snapshot. goheap's tests compare the core the program
// then leaves behind with this file.
package sidecar

import (
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// MemStats is the snapshot written to the sidecar (after ReadSettledMemStats).
func MemStats() *runtime.MemStats { return &ms }

// WarmUpRuntime makes the runtime grow some internal structures now, while
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
func WarmUpRuntime() {
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

var (
	ms       runtime.MemStats // snapshot written to the sidecar
	msPrev   runtime.MemStats // previous snapshot, for ReadSettledMemStats
	msCheck  runtime.MemStats // second snapshot for GOHEAP_CHECK_NOALLOC
	out      []byte           // pre-allocated JSON buffer
	outFD    = -1
	statusFD = -1   // /proc/self/status, opened before ReadMemStats
	statusB  []byte // pre-allocated buffer to read it into
	threads  uint64 // OS threads at the last ReadMemStats
	pid      int
	program  = "goheap-test"
	// ReadyMsg is what a program prints when it waits for gcore (GOHEAP_WAIT_FOR_GCORE=1).
	ReadyMsg = []byte("READY\n")
)

// ReadSettledMemStats reads MemStats into ms until the page counts have
// not changed for 3 consecutive 10ms intervals (or 3s have passed): after
// runtime.GC returns, the background sweeper may still be returning GC work
// buffers to the heap, which would move pages from in use to idle between
// the snapshot and the crash.
func ReadSettledMemStats() {
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

// ReadMemStats takes one snapshot (and the thread count) without waiting for the heap to
// settle, for programs that check something other than MemStats.
func ReadMemStats() {
	threads = countThreads()
	runtime.ReadMemStats(&ms)
}

// Open does every allocation the sidecar needs, before ReadMemStats: it creates the
// sidecar file at path for the program named program.
func Open(name, path string) {
	program = name
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

// AppendField appends "name":v, preceded by a comma unless first.
func AppendField(b []byte, first bool, name string, v uint64) []byte {
	if !first {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendUint(b, v, 10)
}

// Write formats ms into out and writes it, without heap allocation.
// Write formats the snapshot into the pre-allocated buffer and writes it, without heap
// allocation. extra, if not nil, appends more top-level fields (each starting with a comma).
func Write(mode string, postSize, postCount uint64, extra func(b []byte) []byte) {
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
	b = AppendField(b, true, "pid", uint64(pid))
	b = AppendField(b, false, "threads", threads)
	b = append(b, `,"memstats":{`...)
	b = AppendField(b, true, "Alloc", ms.Alloc)
	b = AppendField(b, false, "TotalAlloc", ms.TotalAlloc)
	b = AppendField(b, false, "Sys", ms.Sys)
	b = AppendField(b, false, "Mallocs", ms.Mallocs)
	b = AppendField(b, false, "Frees", ms.Frees)
	b = AppendField(b, false, "HeapAlloc", ms.HeapAlloc)
	b = AppendField(b, false, "HeapSys", ms.HeapSys)
	b = AppendField(b, false, "HeapIdle", ms.HeapIdle)
	b = AppendField(b, false, "HeapInuse", ms.HeapInuse)
	b = AppendField(b, false, "HeapReleased", ms.HeapReleased)
	b = AppendField(b, false, "HeapObjects", ms.HeapObjects)
	b = AppendField(b, false, "StackInuse", ms.StackInuse)
	b = AppendField(b, false, "StackSys", ms.StackSys)
	b = AppendField(b, false, "MSpanInuse", ms.MSpanInuse)
	b = AppendField(b, false, "MCacheInuse", ms.MCacheInuse)
	b = AppendField(b, false, "NumGC", uint64(ms.NumGC))
	b = append(b, `},"by_size":[`...)
	for i := range ms.BySize {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = AppendField(b, true, "size", uint64(ms.BySize[i].Size))
		b = AppendField(b, false, "mallocs", ms.BySize[i].Mallocs)
		b = AppendField(b, false, "frees", ms.BySize[i].Frees)
		b = append(b, '}')
	}
	b = append(b, `],"post_alloc":{`...)
	b = AppendField(b, true, "size", postSize)
	b = AppendField(b, false, "count", postCount)
	b = append(b, '}')
	if extra != nil {
		b = extra(b)
	}
	b = append(b, '}', '\n')
	if cap(b) != cap(out) {
		println(program + ": sidecar buffer too small (it was reallocated)")
		os.Exit(1)
	}
	WriteAll(outFD, b)
	syscall.Close(outFD)
}

func WriteAll(fd int, p []byte) {
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

// CheckNothingAllocated compares a second ReadMemStats with the first one,
// taken 200ms later to give background activity time to show up.
func CheckNothingAllocated(postCount uint64) {
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
