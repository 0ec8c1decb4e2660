// Command goroutines parks goroutines in every state goheap's goroutine view
// must show, then crashes from inside a nested call, so that the kernel
// writes a core and GOTRACEBACK=crash prints every goroutine (the truth
// goheap's tests compare with).
//
// Usage:
//
//	GOTRACEBACK=crash goroutines flushed [SIDECAR]
//
// Goroutines, each started from its own function so that tests can find it:
//   - blocked on channel send and receive, a nil channel, select, an empty
//     select, sync.Mutex, sync.RWMutex (read and write), sync.WaitGroup,
//     sync.Cond, time.Sleep, a network accept and read on a loopback socket,
//     and a blocking read(2) on a pipe (in a system call);
//   - spinning: one in Go (preempted when the runtime freezes the world for
//     the crash) and one in assembly (not preemptible: still running on its
//     own thread when the core is written; GOMAXPROCS is 4);
//   - deep recursion with big frames (a grown stack, more than the 100
//     frames the runtime prints), inlined calls, closures, a method value, a
//     generic function, a goroutine locked to its thread, one with pprof
//     labels;
//   - a leak: leakCount goroutines, each holding a buffer, blocked sending it
//     on a channel nobody reads.
//
// The main goroutine then dereferences nil in crashInner (called from
// crashOuter): the SIGSEGV becomes a panic (runtime.sigpanic), whose deferred
// function panics again with "goroutines: deliberate crash".
//
// Like every goheap test program it first writes runtime.MemStats to the
// sidecar JSON file (scripts/corecheck.py checks it). With
// GOHEAP_WAIT_FOR_GCORE=1 it prints READY and blocks in crashInner instead
// of crashing, so that gdb's gcore can take the core; a SIGABRT ends it.
package main

import (
	"context"
	"goheap.test/sidecar"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const program = "goroutines"

// leakCount goroutines leak in leak().
const leakCount = 10000

var (
	sendCh    = make(chan int)
	recvCh    = make(chan int)
	selectA   = make(chan int)
	selectB   = make(chan string)
	nilCh     chan int
	leakCh    = make(chan []byte)
	inlineCh  = make(chan int)
	closureCh = make(chan int)
	methodCh  = make(chan int)
	genericCh = make(chan int)
	lockedCh  = make(chan int)
	labelCh   = make(chan int)
	deepCh    = make(chan int)
	never     chan struct{}

	mu      sync.Mutex
	rw      sync.RWMutex
	wg      sync.WaitGroup
	condMu  sync.Mutex
	cond    = sync.NewCond(&condMu)
	pipeFDs [2]int

	spinGoCount  uint64
	spinAsmCount uint64
	sink         int
	started      sync.WaitGroup
)

//go:noinline
func chanSender() { sendCh <- 1 }

//go:noinline
func chanReceiver() { sink = <-recvCh }

//go:noinline
func nilChanReceiver() { <-nilCh }

//go:noinline
func selector() {
	select {
	case v := <-selectA:
		sink = v
	case s := <-selectB:
		sink = len(s)
	}
}

//go:noinline
func emptySelect() { select {} }

//go:noinline
func mutexWaiter() {
	mu.Lock()
	mu.Unlock()
}

//go:noinline
func rwReader() {
	rw.RLock()
	rw.RUnlock()
}

//go:noinline
func rwWriter() {
	rw.Lock()
	rw.Unlock()
}

//go:noinline
func waitGroupWaiter() { wg.Wait() }

//go:noinline
func condWaiter() {
	condMu.Lock()
	for {
		cond.Wait()
	}
}

//go:noinline
func sleeper() { time.Sleep(time.Hour) }

//go:noinline
func acceptor(l net.Listener) {
	c, err := l.Accept()
	if err == nil {
		c.Close()
	}
}

//go:noinline
func netReader(c net.Conn) {
	var buf [64]byte
	n, _ := c.Read(buf[:])
	sink = n
}

//go:noinline
func pipeReader() {
	var buf [8]byte
	n, _ := syscall.Read(pipeFDs[0], buf[:])
	sink = n
}

//go:noinline
func spinGo() {
	for {
		atomic.AddUint64(&spinGoCount, 1)
	}
}

//go:noinline
func spinner() { spinAsm(&spinAsmCount) }

// recurse grows the stack: big frames, more than 100 of them.
//
//go:noinline
func recurse(n int) int {
	var pad [512]byte
	pad[n%512] = byte(n)
	if n == 0 {
		return <-deepCh + int(pad[0])
	}
	return recurse(n-1) + int(pad[n%512])
}

//go:noinline
func deep() { sink = recurse(150) }

// waitInline and inlineMiddle are inlined into inlineRoot.
func waitInline(ch chan int) int { return <-ch + 1 }

func inlineMiddle(ch chan int) int { return waitInline(ch) * 2 }

//go:noinline
func inlineRoot() { sink = inlineMiddle(inlineCh) }

type worker struct{ ch chan int }

//go:noinline
func (w *worker) run() { sink = <-w.ch }

//go:noinline
func genericWait[T any](ch chan T) T { return <-ch }

//go:noinline
func lockedWaiter() {
	runtime.LockOSThread()
	sink = <-lockedCh
}

//go:noinline
func labelled() {
	pprof.Do(context.Background(), pprof.Labels("role", "labelled", "shard", "7"), func(context.Context) {
		sink = <-labelCh
	})
}

//go:noinline
func leak(i int) {
	buf := make([]byte, 256)
	buf[0] = byte(i)
	leakCh <- buf
}

func startAll() {
	go chanSender()
	go chanReceiver()
	go nilChanReceiver()
	go selector()
	go emptySelect()
	mu.Lock() // held by main: mutexWaiter blocks
	go mutexWaiter()
	rw.Lock() // held by main: rwReader and rwWriter block
	go rwReader()
	go rwWriter()
	wg.Add(1)
	go waitGroupWaiter()
	go condWaiter()
	go sleeper()

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		println(program+": listen:", err.Error())
		os.Exit(1)
	}
	go acceptor(l)
	l2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		println(program+": listen:", err.Error())
		os.Exit(1)
	}
	go func() {
		c, err := l2.Accept()
		if err == nil {
			netReader(c)
		}
	}()
	if c, err := net.Dial("tcp", l2.Addr().String()); err == nil {
		keep = append(keep, c)
	}

	if err := syscall.Pipe2(pipeFDs[:], syscall.O_CLOEXEC); err != nil {
		println(program+": pipe:", err.Error())
		os.Exit(1)
	}
	go pipeReader()

	go deep()
	go inlineRoot()
	go func() { // a closure
		sink = <-closureCh
	}()
	w := &worker{ch: methodCh}
	go w.run()
	go genericWait[int](genericCh)
	go lockedWaiter()
	go labelled()
	for i := 0; i < leakCount; i++ {
		go leak(i)
	}
}

// keep holds the client end of the loopback connection.
var keep []net.Conn

func main() {
	mode := "flushed"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	if mode != "flushed" {
		println(program + ": mode must be flushed")
		os.Exit(2)
	}
	sidecarPath := "sidecar.json"
	if len(os.Args) > 2 {
		sidecarPath = os.Args[2]
	}
	waitForGcore := os.Getenv("GOHEAP_WAIT_FOR_GCORE") == "1"
	runtime.GOMAXPROCS(4)

	startAll()
	time.Sleep(50 * time.Millisecond) // let them park
	go spinGo()

	sidecar.Open(program, sidecarPath)
	// Two collections: every blocked goroutine's stack is scanned, which sets
	// its g.waitsince.
	runtime.GC()
	runtime.GC()
	sidecar.ReadMemStats()
	sidecar.Write(mode, 0, 0, nil)

	// The assembly spinner cannot be preempted: start it only after the last
	// stop-the-world (ReadMemStats), and wait until it runs.
	go spinner()
	for atomic.LoadUint64(&spinAsmCount) == 0 || atomic.LoadUint64(&spinGoCount) == 0 {
		time.Sleep(time.Millisecond)
	}
	crashOuter(waitForGcore)
}

//go:noinline
func crashOuter(waitForGcore bool) int {
	return crashInner(waitForGcore) + 1
}

// crashInner dereferences nil: the fault becomes a panic in this frame
// (runtime.sigpanic), and the deferred function panics with the message
// scripts/corecheck.py looks for.
//
//go:noinline
func crashInner(waitForGcore bool) int {
	if waitForGcore {
		sidecar.WriteAll(1, sidecar.ReadyMsg)
		<-never // blocks forever; the sleeper's timer keeps the deadlock detector quiet
	}
	defer func() {
		panic(program + ": deliberate crash")
	}()
	var p *int
	return *p
}
