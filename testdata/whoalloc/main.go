// Command whoalloc allocates objects of known types from known, non-inlined
// functions, records each object's address, type, size and allocating
// function, the addresses of a stack variable, globals and a function, and
// the result of runtime.MemProfile in a sidecar JSON file, then crashes so
// that the kernel writes a core for goheap's whoalloc and profile tests.
//
// Usage:
//
//	GOTRACEBACK=crash whoalloc profiled|sampled|off [SIDECAR]
//
// Modes (the memory-profile rate is set in init, before main allocates):
//   - profiled: runtime.MemProfileRate = 1, every allocation is recorded;
//   - sampled: the default rate (512 KiB): most objects are not sampled;
//   - off: runtime.MemProfileRate = 0.
//
// The objects: structs with pointers, arrays and slices of structs between
// 512 B and 32 KiB (8-byte malloc header from Go 1.22), large objects (one
// whose type has a GC program on Go 1.22-1.23, a lazily built mask from
// 1.24), byte slices, a string, a map, channels, a closure, tiny 8-byte
// objects, and objects with a finalizer, pins, and (Go 1.24+) a cleanup and a
// weak handle. After the last GC the program records runtime.MemStats and
// runtime.MemProfile(p, true) and symbolizes the profile's stacks; later
// allocations are not part of that profile (they land in a future profiling
// cycle, and GC is off), so the core's profile equals the recorded one.
//
// Like testdata/heapshape, with GOHEAP_WAIT_FOR_GCORE=1 the program prints
// READY and blocks instead of panicking, for gdb's gcore.
package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"syscall"
	"unsafe"
)

const program = "whoalloc"

// mode is the first argument; init reads it to set the profiling rate.
var mode string

func init() {
	if len(os.Args) >= 2 {
		mode = os.Args[1]
	}
	switch mode {
	case "profiled":
		runtime.MemProfileRate = 1
	case "off":
		runtime.MemProfileRate = 0
	}
}

type node struct {
	id   int
	name string
	next *node
	val  *int64
}

// rec is 48 bytes with one pointer.
type rec struct {
	p *int64
	x [5]int
}

// Big is 7232 bytes with pointers: 7240 with the header, size class 8192.
type Big struct {
	name string
	id   int
	ptrs [900]*int64
	next *Big
}

// Large is 48016 bytes with pointers: a large object.
type Large struct {
	id    int
	items [6000]*int64
	tail  *Large
}

// Huge has 160000 bytes of pointers: its mask would exceed 2048 bytes, so
// Go 1.22-1.23 give it a GC program and Go 1.24+ a mask built on demand.
type Huge struct {
	a    [20000]*int64
	name string
}

// BigLate and HugeLate are allocated only after the last GC, which so never
// scanned them: where their masks are built on demand (HugeLate from Go 1.24,
// BigLate from 1.27, whose threshold is 16 mask bytes) the mask is not built.
type BigLate struct {
	name string
	id   int
	ptrs [900]*int64
	next *BigLate
}

type HugeLate struct {
	name string
	a    [20000]*int64
}

type finObj struct {
	id   int
	next *node
	pad  [6]int
}

type pinObj struct {
	id  int
	ptr *int64
	pad [4]int
}

type obj struct {
	name     string
	addr     uintptr
	interior uintptr // an offset inside the object to test too (0: none)
	size     uintptr // bytes requested
	typ      string  // type the runtime stores for it ("" if it stores none)
	ptrs     bool
	fn       string
	tiny     bool
	specials string // comma-separated kinds expected besides the profile record
	pin      string // "", "single" or "multi"
	mask     string // expected start of the pointer mask ("" if not checked)
	late     bool   // allocated after the last GC
}

var (
	objs    []obj
	keep    []any // keeps every object alive
	someInt = new(int64)

	// Globals whose addresses are resolved by the test.
	globalCounter uint64
	globalTable   [8]*node
	globalData    = [4]int{1, 2, 3, 4}

	pinnerA, pinnerB runtime.Pinner

	stackAddr uintptr // address of a local in stackHolder's frame
	stackGoid uint64
	wake      = make(chan struct{})
	never     chan struct{}
	sinkByte  byte
)

func addr[T any](p *T) uintptr { return uintptr(unsafe.Pointer(p)) }

func record(o obj, v any) {
	objs = append(objs, o)
	keep = append(keep, v)
}

//go:noinline
func newNode(id int) *node {
	return &node{id: id, name: "node-" + strconv.Itoa(id), val: someInt}
}

//go:noinline
func newRecs20() *[20]rec {
	a := new([20]rec)
	for i := range a {
		a[i].p = someInt
		a[i].x[0] = i
	}
	return a
}

//go:noinline
func makeRecs(n int) []rec {
	s := make([]rec, n)
	for i := range s {
		s[i] = rec{p: someInt, x: [5]int{i, 2 * i}}
	}
	return s
}

//go:noinline
func newBig() *Big {
	b := &Big{name: "big-object", id: 7}
	for i := range b.ptrs {
		b.ptrs[i] = someInt
	}
	return b
}

//go:noinline
func newLarge() *Large {
	l := &Large{id: 42}
	l.items[0] = someInt
	return l
}

//go:noinline
func makeLargePtrs(n int) []*int64 {
	s := make([]*int64, n)
	for i := range s {
		s[i] = someInt
	}
	return s
}

//go:noinline
func newHuge() *Huge {
	h := &Huge{name: "huge"}
	h.a[1] = someInt
	return h
}

//go:noinline
func makeBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

//go:noinline
func makeString(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('A' + i%26)
	}
	return string(b)
}

//go:noinline
func makeMap() map[string]*node {
	m := make(map[string]*node)
	for i := 0; i < 5; i++ {
		m[strconv.Itoa(i)] = nil
	}
	return m
}

//go:noinline
func makeChanPtr() chan *node { return make(chan *node, 10) }

//go:noinline
func makeChanInt() chan int { return make(chan int, 1000) }

//go:noinline
func makeClosure(a, b int, p *node) func() int {
	return func() int { return a + b + p.id }
}

//go:noinline
func newTiny() (*int64, *int64) {
	x, y := new(int64), new(int64)
	*x, *y = 1, 2
	return x, y
}

//go:noinline
func newFinalized() *finObj {
	f := &finObj{id: 9}
	runtime.SetFinalizer(f, finalizerFunc)
	return f
}

func finalizerFunc(f *finObj) { sinkByte = byte(f.id) }

//go:noinline
func newPinned() *pinObj { return &pinObj{id: 1, ptr: someInt} }

//go:noinline
func newBigLate() *BigLate { return &BigLate{name: "late", ptrs: [900]*int64{someInt}} }

//go:noinline
func newHugeLate() *HugeLate { return &HugeLate{name: "late"} }

// buildLate allocates the objects of types the GC never scanned.
func buildLate() {
	b := newBigLate()
	record(obj{name: "biglate", addr: addr(b), interior: 100, size: unsafe.Sizeof(*b), typ: "main.BigLate", ptrs: true, fn: "main.newBigLate", mask: "1001111111", late: true}, b)
	h := newHugeLate()
	record(obj{name: "hugelate", addr: addr(h), interior: 100, size: unsafe.Sizeof(*h), typ: "main.HugeLate", ptrs: true, fn: "main.newHugeLate", mask: "1011111111", late: true}, h)
}

//go:noinline
func targetFunc() { sinkByte++ }

func funcPC(f func()) uintptr { return **(**uintptr)(unsafe.Pointer(&f)) }

func build() {
	n := newNode(1)
	record(obj{name: "node", addr: addr(n), interior: 16, size: unsafe.Sizeof(node{}), ptrs: true, fn: "main.newNode"}, n)
	globalTable[3] = n

	r20 := newRecs20()
	record(obj{name: "recs20", addr: addr(r20), interior: 500, size: unsafe.Sizeof(*r20), typ: "[20]main.rec", ptrs: true, fn: "main.newRecs20"}, r20)

	rs := makeRecs(50)
	record(obj{name: "recslice", addr: addr(&rs[0]), interior: 1000, size: 50 * unsafe.Sizeof(rec{}), typ: "main.rec", ptrs: true, fn: "main.makeRecs"}, rs)

	b := newBig()
	record(obj{name: "big", addr: addr(b), interior: 64, size: unsafe.Sizeof(*b), typ: "main.Big", ptrs: true, fn: "main.newBig", mask: "1001111111"}, b)

	l := newLarge()
	record(obj{name: "large", addr: addr(l), interior: 40000, size: unsafe.Sizeof(*l), typ: "main.Large", ptrs: true, fn: "main.newLarge"}, l)

	lp := makeLargePtrs(6000)
	record(obj{name: "largeptrs", addr: addr(&lp[0]), interior: 8 * 3000, size: 6000 * 8, typ: "*int64", ptrs: true, fn: "main.makeLargePtrs"}, lp)

	h := newHuge()
	record(obj{name: "huge", addr: addr(h), interior: 100000, size: unsafe.Sizeof(*h), typ: "main.Huge", ptrs: true, fn: "main.newHuge", mask: "1111111111"}, h)

	for _, n := range []int{100, 5000, 100000} {
		bs := makeBytes(n)
		record(obj{name: "bytes" + strconv.Itoa(n), addr: addr(&bs[0]), interior: uintptr(n / 2), size: uintptr(n), fn: "main.makeBytes"}, bs)
	}

	s := makeString(40)
	record(obj{name: "string", addr: uintptr(unsafe.Pointer(unsafe.StringData(s))), interior: 20, size: 40, fn: "main.makeString"}, s)

	m := makeMap()
	record(obj{name: "map", addr: *(*uintptr)(unsafe.Pointer(&m)), ptrs: true, fn: "main.makeMap"}, m)

	cp := makeChanPtr()
	record(obj{name: "chanptr", addr: *(*uintptr)(unsafe.Pointer(&cp)), ptrs: true, fn: "main.makeChanPtr"}, cp)

	ci := makeChanInt()
	record(obj{name: "chanint", addr: *(*uintptr)(unsafe.Pointer(&ci)), interior: 4000, size: 96 + 8000, fn: "main.makeChanInt"}, ci)

	cl := makeClosure(3, 4, n)
	record(obj{name: "closure", addr: *(*uintptr)(unsafe.Pointer(&cl)), ptrs: true, fn: "main.makeClosure"}, cl)

	for i := 0; i < 3; i++ {
		x, y := newTiny()
		record(obj{name: "tinyx" + strconv.Itoa(i), addr: addr(x), size: 8, fn: "main.newTiny", tiny: true}, x)
		record(obj{name: "tinyy" + strconv.Itoa(i), addr: addr(y), size: 8, fn: "main.newTiny", tiny: true}, y)
	}

	f := newFinalized()
	record(obj{name: "finalized", addr: addr(f), size: unsafe.Sizeof(*f), ptrs: true, fn: "main.newFinalized", specials: "finalizer"}, f)

	p1 := newPinned()
	pinnerA.Pin(p1)
	record(obj{name: "pinned", addr: addr(p1), size: unsafe.Sizeof(*p1), ptrs: true, fn: "main.newPinned", pin: "single"}, p1)
	p2 := newPinned()
	pinnerA.Pin(p2)
	pinnerB.Pin(p2)
	record(obj{name: "multipinned", addr: addr(p2), size: unsafe.Sizeof(*p2), ptrs: true, fn: "main.newPinned", specials: "pin_counter", pin: "multi"}, p2)

	buildNewSpecials() // Go 1.24+: a cleanup and a weak handle
}

// stackHolder parks with a large frame. It records the address of a local
// only when woken after the last GC (a GC may shrink, and so move, the stack
// of a parked goroutine), then parks again on the same path.
//
//go:noinline
func stackHolder() {
	var buf [2048]byte
	for i := range buf {
		buf[i] = byte(i)
	}
	<-wake
	stackGoid = curGoid()
	atomic.StoreUintptr(&stackAddr, uintptr(unsafe.Pointer(&buf[100])))
	<-wake
	sinkByte = buf[7]
}

// curGoid parses "goroutine N [" from runtime.Stack.
func curGoid() uint64 {
	var b [64]byte
	n := runtime.Stack(b[:], false)
	s := string(b[:n])
	const p = "goroutine "
	var id uint64
	for i := len(p); i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		id = id*10 + uint64(s[i]-'0')
	}
	return id
}

func main() {
	if len(os.Args) < 2 || len(os.Args) > 3 || (mode != "profiled" && mode != "sampled" && mode != "off") {
		println("usage: " + program + " profiled|sampled|off [SIDECAR]")
		os.Exit(2)
	}
	sidecarPath := "sidecar.json"
	if len(os.Args) == 3 {
		sidecarPath = os.Args[2]
	}
	waitForGcore := os.Getenv("GOHEAP_WAIT_FOR_GCORE") == "1"

	go stackHolder()
	build()
	globalCounter = uint64(len(objs))

	fd, err := syscall.Open(sidecarPath, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_TRUNC|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		println(program+": cannot create sidecar", sidecarPath+":", err.Error())
		os.Exit(1)
	}
	records := make([]runtime.MemProfileRecord, 1<<12)
	out := make([]byte, 0, 1<<20)

	// No GC after this point: the profile and the objects stay as recorded.
	debug.SetGCPercent(-1)
	runtime.GC()
	runtime.GC()
	wake <- struct{}{}
	for atomic.LoadUintptr(&stackAddr) == 0 {
		runtime.Gosched()
	}
	buildLate()
	runtime.ReadMemStats(&ms)
	n, ok := runtime.MemProfile(records, true)
	if !ok {
		println(program + ": MemProfile needs more records")
		os.Exit(1)
	}
	writeAll(fd, sidecar(out, records[:n]))
	syscall.Close(fd)
	crashOuter(waitForGcore)
}

//go:noinline
func crashOuter(waitForGcore bool) int {
	return crashInner(waitForGcore) + 1
}

//go:noinline
func crashInner(waitForGcore bool) int {
	if waitForGcore {
		writeAll(1, []byte("READY\n"))
		<-never
	}
	panic(program + ": deliberate crash")
}

var ms runtime.MemStats

func field(b []byte, first bool, name string) []byte {
	if !first {
		b = append(b, ',')
	}
	b = strconv.AppendQuote(b, name)
	return append(b, ':')
}

func num(b []byte, first bool, name string, v uint64) []byte {
	return strconv.AppendUint(field(b, first, name), v, 10)
}

func str(b []byte, first bool, name, v string) []byte {
	return strconv.AppendQuote(field(b, first, name), v)
}

func boolean(b []byte, first bool, name string, v bool) []byte {
	return strconv.AppendBool(field(b, first, name), v)
}

// sidecar formats everything the test checks.
func sidecar(b []byte, records []runtime.MemProfileRecord) []byte {
	b = append(b, '{')
	b = str(b, true, "program", program)
	b = str(b, false, "mode", mode)
	b = str(b, false, "go_version", runtime.Version())
	b = str(b, false, "goarch", runtime.GOARCH)
	b = num(b, false, "pid", uint64(syscall.Getpid()))
	b = num(b, false, "mem_profile_rate", uint64(runtime.MemProfileRate))
	b = append(field(b, false, "memstats"), '{')
	b = num(b, true, "Alloc", ms.Alloc)
	b = num(b, false, "TotalAlloc", ms.TotalAlloc)
	b = num(b, false, "Sys", ms.Sys)
	b = num(b, false, "Mallocs", ms.Mallocs)
	b = num(b, false, "Frees", ms.Frees)
	b = num(b, false, "HeapAlloc", ms.HeapAlloc)
	b = num(b, false, "HeapSys", ms.HeapSys)
	b = num(b, false, "HeapIdle", ms.HeapIdle)
	b = num(b, false, "HeapInuse", ms.HeapInuse)
	b = num(b, false, "HeapReleased", ms.HeapReleased)
	b = num(b, false, "HeapObjects", ms.HeapObjects)
	b = num(b, false, "StackInuse", ms.StackInuse)
	b = num(b, false, "StackSys", ms.StackSys)
	b = num(b, false, "MSpanInuse", ms.MSpanInuse)
	b = num(b, false, "MCacheInuse", ms.MCacheInuse)
	b = num(b, false, "NumGC", uint64(ms.NumGC))
	b = append(b, '}')
	b = append(field(b, false, "by_size"), '[')
	for i := range ms.BySize {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = num(b, true, "size", uint64(ms.BySize[i].Size))
		b = num(b, false, "mallocs", ms.BySize[i].Mallocs)
		b = num(b, false, "frees", ms.BySize[i].Frees)
		b = append(b, '}')
	}
	b = append(b, ']')
	b = append(field(b, false, "post_alloc"), '{')
	b = num(b, true, "size", 0)
	b = num(b, false, "count", 0)
	b = append(b, '}')

	b = append(field(b, false, "objects"), '[')
	for i, o := range objs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = str(b, true, "name", o.name)
		b = num(b, false, "addr", uint64(o.addr))
		b = num(b, false, "interior", uint64(o.interior))
		b = num(b, false, "size", uint64(o.size))
		b = str(b, false, "type", o.typ)
		b = boolean(b, false, "ptrs", o.ptrs)
		b = str(b, false, "func", o.fn)
		b = boolean(b, false, "tiny", o.tiny)
		b = str(b, false, "specials", o.specials)
		b = str(b, false, "pin", o.pin)
		b = str(b, false, "mask", o.mask)
		b = boolean(b, false, "late", o.late)
		b = append(b, '}')
	}
	b = append(b, ']')

	b = append(field(b, false, "stack"), '{')
	b = num(b, true, "addr", uint64(stackAddr))
	b = num(b, false, "goroutine", stackGoid)
	b = str(b, false, "func", "main.stackHolder")
	b = append(b, '}')
	b = append(field(b, false, "globals"), '[')
	b = append(b, '{')
	b = num(b, true, "addr", uint64(addr(&globalCounter)))
	b = str(b, false, "symbol", "main.globalCounter")
	b = num(b, false, "offset", 0)
	b = append(b, `},{`...)
	b = num(b, true, "addr", uint64(addr(&globalTable[3])))
	b = str(b, false, "symbol", "main.globalTable")
	b = num(b, false, "offset", 24)
	b = append(b, `},{`...)
	b = num(b, true, "addr", uint64(addr(&globalData[1])))
	b = str(b, false, "symbol", "main.globalData")
	b = num(b, false, "offset", 8)
	b = append(b, '}', ']')
	b = append(field(b, false, "text"), '{')
	b = num(b, true, "addr", uint64(funcPC(targetFunc)+4))
	b = str(b, false, "func", "main.targetFunc")
	b = append(b, '}')

	// The memory profile: each PC with the name runtime/pprof hides runtime
	// frames by (FuncForPC) and its CallersFrames symbolization.
	b = append(field(b, false, "profile"), '[')
	for i := range records {
		r := &records[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = num(b, true, "alloc_objects", uint64(r.AllocObjects))
		b = num(b, false, "alloc_bytes", uint64(r.AllocBytes))
		b = num(b, false, "free_objects", uint64(r.FreeObjects))
		b = num(b, false, "free_bytes", uint64(r.FreeBytes))
		b = append(field(b, false, "stack"), '[')
		for j, pc := range r.Stack() {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			b = num(b, true, "pc", uint64(pc))
			name := ""
			if f := runtime.FuncForPC(pc); f != nil {
				name = f.Name()
			}
			b = str(b, false, "funcforpc", name)
			fr, _ := runtime.CallersFrames([]uintptr{pc}).Next()
			b = str(b, false, "func", fr.Function)
			b = str(b, false, "file", fr.File)
			b = num(b, false, "line", uint64(fr.Line))
			b = append(b, '}')
		}
		b = append(b, ']', '}')
	}
	b = append(b, ']', '}', '\n')
	return b
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
