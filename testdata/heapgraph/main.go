// Command heapgraph builds a heap whose reachability is known, records it in a sidecar JSON
// file and crashes, so that goheap's heap-graph test can compare its marking with it.
//
// Usage:
//
//	GOTRACEBACK=crash heapgraph flushed [SIDECAR]
//
// Before the last GC the program keeps alive:
//
//   - from globals: globalNodes (globalCount nodes of 48 bytes) and a linked list of
//     listCount nodes reached from the single pointer globalList;
//
//   - from one goroutine's stack only: a linked list of stackCount 80-byte nodes whose head
//     is a local variable of stackHolder, blocked on a channel;
//
//   - objects whose types goheap must learn (Go 1.22+), from globals: typedNodes (a
//     []*tnode backing array of typedCount pointers: typed by its malloc header) whose
//     tnodes and their tleafs are typed through their pointers; recs (one []rec backing
//     array of recCount structs, 1,440 bytes: typed by its header) whose tleafs are typed
//     through their pointers; boxes (a []any of boxCount interfaces, each a *tbox: typed
//     through the interface's type word).
//
//   - containers whose contents goheap must type through the container (every Go release):
//     ptrMap (a map[*mkey]*mval of mapCount entries: buckets before Go 1.24, a Swiss table
//     from 1.24), smallMap (a map[int]*msmall of smallMapCount entries: one Swiss group),
//     bigMap (a map[int]mbig of bigMapCount entries: mbig is over 128 bytes, so the map
//     stores each element indirectly as a *mbig heap object), ptrChan (a chan *cval with
//     chanCount buffered pointers), closures (closureCount closures, each capturing its own
//     *cclo) and shapes (a []shaper of shapeCount *tshape: a non-empty interface);
//
//   - holders: three holder objects pointing at one tshared (for referrers and paths);
//
//   - largeRecs: one large object (a []lrec backing array of largeRecCount structs, over
//     32 KiB: typed by mspan.largeType on Go 1.22+) whose every element points at an lleaf.
//
// After the last GC (and runtime.ReadMemStats) it allocates:
//   - an object (finalObj) reachable only through its finalizer (runtime.SetFinalizer), which
//     holds a list of finalChildren nodes;
//   - garbage it drops at once: garbageScan 64-byte objects with pointers, garbageNoscan
//     112-byte pointer-free objects and garbageLarge 40 KiB pointer-free objects. Nothing
//     else is allocated after the last GC, so the core holds exactly this garbage.
//
// The sidecar's "heapgraph" member records the counts, sizes and one address of each kind.
package main

import (
	"goheap.test/sidecar"
	"os"
	"runtime"
	"strconv"
	"unsafe"
)

const program = "heapgraph"

const (
	globalCount   = 1000
	listCount     = 2500 // longer than the 2 × 1000 steps `paths` keeps of a path
	stackCount    = 300
	finalChildren = 20
	garbageScan   = 200 // 64-byte objects with pointers (size class 64)
	garbageNoscan = 100 // 112-byte pointer-free objects (size class 112)
	garbageLarge  = 2   // 40 KiB pointer-free objects (5 pages each)
	largeSize     = 40 << 10
	typedCount    = 400
	recCount      = 60
	boxCount      = 100
	mapCount      = 300
	smallMapCount = 5
	bigMapCount   = 20
	chanCount     = 50
	chanCap       = 64
	closureCount  = 30
	shapeCount    = 40
	holderCount   = 3
	largeRecCount = 2000 // 24-byte lrecs: 48,000 bytes, a large object
)

// tnode is 40 bytes (size class 48) with pointers; tleaf 24 bytes without; rec 24 bytes with
// one pointer; tbox 32 bytes without pointers.
type tnode struct {
	leaf *tleaf
	name string
	pad  [2]int
}

type tleaf struct{ v [3]int64 }

type rec struct {
	p    *tleaf
	a, b int
}

type tbox struct{ a, b, c, d int64 }

// Map keys and values (pointer keys and values); mbig is 160 bytes with a pointer, more than
// a map stores inline (128 bytes).
type mkey struct{ k, pad int64 }

type mval struct {
	leaf *tleaf
	v    int64
}

type msmall struct{ a, b, c int64 }

type mbig struct {
	p   *int64
	pad [19]int64
}

// cval is sent on ptrChan; cclo is captured by a closure; tshape implements shaper.
type cval struct{ a, b int64 }

type cclo struct{ n, m int64 }

type shaper interface{ area() int64 }

type tshape struct{ w, h int64 }

func (s *tshape) area() int64 { return s.w * s.h }

// holder points at the shared tshared.
type holder struct {
	p   *tshared
	pad [2]int64
}

type tshared struct{ a, b, c, d, e int64 }

// lrec is 24 bytes with one pointer; lleaf 16 bytes without: it shares the tiny allocator's
// span class (16-byte pointer-free slots) but fills its slot, as mkey, cval, cclo and tshape do.
type lrec struct {
	p    *lleaf
	a, b int64
}

type lleaf struct{ v, w int64 }

// gnode is 48 bytes with one pointer.
type gnode struct {
	next *gnode
	pad  [5]int
}

// snode is 80 bytes with one pointer.
type snode struct {
	next *snode
	pad  [9]int
}

// fnode is 96 bytes with one pointer.
type fnode struct {
	child *snode
	pad   [11]int
}

// scanGarbage is 64 bytes with one pointer.
type scanGarbage struct {
	p   *int
	pad [7]int
}

var (
	globalNodes []*gnode
	globalList  *gnode
	typedNodes  []*tnode
	recs        []rec
	boxes       []any
	ptrMap      map[*mkey]*mval
	smallMap    map[int]*msmall
	bigMap      map[int]mbig
	ptrChan     chan *cval
	closures    []func() int64
	shapes      []shaper
	holders     []*holder
	largeRecs   []lrec

	// Addresses (not pointers: they keep nothing alive).
	globalAddr, listTailAddr, stackHeadAddr, stackTailAddr    uintptr
	finalAddr, finalChildAddr, garbageAddr, garbageLargeAddr  uintptr
	tnodeAddr, tleafAddr, recsAddr, boxAddr                   uintptr
	mkeyAddr, mvalAddr, msmallAddr, cvalAddr                  uintptr
	ccloAddr, shapeAddr, sharedAddr, largeRecsAddr, lleafAddr uintptr
	holderAddrs                                               [holderCount]uintptr

	stackReady   = make(chan struct{})
	stackRelease = make(chan struct{})
	sink         any
	never        chan int
)

//go:noinline
func buildChain(n int) (*snode, *snode) {
	var head, tail *snode
	for i := 0; i < n; i++ {
		s := &snode{next: head}
		if tail == nil {
			tail = s
		}
		head = s
	}
	return head, tail
}

// stackHolder keeps its list in a local variable only.
func stackHolder() {
	head, tail := buildChain(stackCount)
	stackHeadAddr, stackTailAddr = uintptr(unsafe.Pointer(head)), uintptr(unsafe.Pointer(tail))
	stackReady <- struct{}{}
	<-stackRelease
	runtime.KeepAlive(head)
}

//go:noinline
func buildTyped() {
	typedNodes = make([]*tnode, typedCount)
	for i := range typedNodes {
		typedNodes[i] = &tnode{leaf: &tleaf{}, name: "typed"}
	}
	recs = make([]rec, recCount)
	for i := range recs {
		recs[i].p = &tleaf{}
	}
	boxes = make([]any, boxCount)
	for i := range boxes {
		boxes[i] = &tbox{}
	}
	tnodeAddr = uintptr(unsafe.Pointer(typedNodes[typedCount/2]))
	tleafAddr = uintptr(unsafe.Pointer(recs[recCount/2].p))
	recsAddr = uintptr(unsafe.Pointer(&recs[0]))
	boxAddr = uintptr(unsafe.Pointer(boxes[boxCount/2].(*tbox)))
}

//go:noinline
func makeClosure(c *cclo) func() int64 {
	return func() int64 { return c.n + c.m }
}

//go:noinline
func buildContainers() {
	ptrMap = make(map[*mkey]*mval)
	for i := 0; i < mapCount; i++ {
		k, v := &mkey{k: int64(i)}, &mval{v: int64(i)}
		ptrMap[k] = v
		if i == mapCount/2 {
			mkeyAddr, mvalAddr = uintptr(unsafe.Pointer(k)), uintptr(unsafe.Pointer(v))
		}
	}
	smallMap = make(map[int]*msmall)
	for i := 0; i < smallMapCount; i++ {
		smallMap[i] = &msmall{a: int64(i)}
	}
	msmallAddr = uintptr(unsafe.Pointer(smallMap[smallMapCount/2]))
	bigMap = make(map[int]mbig)
	for i := 0; i < bigMapCount; i++ {
		bigMap[i] = mbig{pad: [19]int64{int64(i)}}
	}
	ptrChan = make(chan *cval, chanCap)
	for i := 0; i < chanCount; i++ {
		c := &cval{a: int64(i)}
		ptrChan <- c
		if i == chanCount/2 {
			cvalAddr = uintptr(unsafe.Pointer(c))
		}
	}
	closures = make([]func() int64, closureCount)
	for i := range closures {
		c := &cclo{n: int64(i)}
		closures[i] = makeClosure(c)
		if i == closureCount/2 {
			ccloAddr = uintptr(unsafe.Pointer(c))
		}
	}
	shapes = make([]shaper, shapeCount)
	for i := range shapes {
		s := &tshape{w: int64(i)}
		shapes[i] = s
		if i == shapeCount/2 {
			shapeAddr = uintptr(unsafe.Pointer(s))
		}
	}
	largeRecs = make([]lrec, largeRecCount)
	for i := range largeRecs {
		largeRecs[i].p = &lleaf{v: int64(i)}
	}
	largeRecsAddr = uintptr(unsafe.Pointer(&largeRecs[0]))
	lleafAddr = uintptr(unsafe.Pointer(largeRecs[largeRecCount-1].p))
	shared := &tshared{}
	sharedAddr = uintptr(unsafe.Pointer(shared))
	holders = make([]*holder, holderCount)
	for i := range holders {
		holders[i] = &holder{p: shared}
		holderAddrs[i] = uintptr(unsafe.Pointer(holders[i]))
	}
}

//go:noinline
func finalizerOnly() {
	f := &fnode{}
	var last *snode
	for i := 0; i < finalChildren; i++ {
		last = &snode{next: f.child}
		f.child = last
	}
	finalAddr, finalChildAddr = uintptr(unsafe.Pointer(f)), uintptr(unsafe.Pointer(last))
	runtime.SetFinalizer(f, func(*fnode) {})
}

//go:noinline
func dropGarbage() {
	for i := 0; i < garbageScan; i++ {
		g := &scanGarbage{}
		garbageAddr = uintptr(unsafe.Pointer(g))
		sink = g
	}
	for i := 0; i < garbageNoscan; i++ {
		sink = new([112]byte)
	}
	for i := 0; i < garbageLarge; i++ {
		b := new([largeSize]byte)
		garbageLargeAddr = uintptr(unsafe.Pointer(b))
		sink = b
	}
	sink = nil
}

func main() {
	if len(os.Args) < 2 || len(os.Args) > 3 || os.Args[1] != "flushed" {
		println("usage: " + program + " flushed [SIDECAR]")
		os.Exit(2)
	}
	sidecarPath := "sidecar.json"
	if len(os.Args) == 3 {
		sidecarPath = os.Args[2]
	}
	waitForGcore := os.Getenv("GOHEAP_WAIT_FOR_GCORE") == "1"
	globalNodes = make([]*gnode, globalCount)
	for i := range globalNodes {
		globalNodes[i] = &gnode{}
	}
	globalAddr = uintptr(unsafe.Pointer(globalNodes[globalCount/2]))
	var tail *gnode
	for i := 0; i < listCount; i++ {
		globalList = &gnode{next: globalList}
		if tail == nil {
			tail = globalList
		}
	}
	listTailAddr = uintptr(unsafe.Pointer(tail))
	buildTyped()
	buildContainers()
	go stackHolder()
	<-stackReady

	// Start the finalizer goroutine now (its first use allocates it).
	warm := &fnode{}
	runtime.SetFinalizer(warm, func(*fnode) {})
	runtime.SetFinalizer(warm, nil)
	runtime.KeepAlive(warm)

	sidecar.WarmUpRuntime()
	sidecar.Open(program, sidecarPath)
	runtime.GC()
	runtime.GC()
	sidecar.ReadSettledMemStats()

	// After the last GC: an object kept only by its finalizer, and known garbage.
	finalizerOnly()
	dropGarbage()
	// post_alloc stays 0: this program's later allocations are described by its own fields.
	sidecar.Write("flushed", 0, 0, func(b []byte) []byte {
		b = append(b, `,"heapgraph":{`...)
		b = sidecar.AppendField(b, true, "global_count", globalCount)
		b = sidecar.AppendField(b, false, "list_count", listCount)
		b = sidecar.AppendField(b, false, "stack_count", stackCount)
		b = sidecar.AppendField(b, false, "final_children", finalChildren)
		b = sidecar.AppendField(b, false, "typed_count", typedCount)
		b = sidecar.AppendField(b, false, "rec_count", recCount)
		b = sidecar.AppendField(b, false, "box_count", boxCount)
		b = sidecar.AppendField(b, false, "map_count", mapCount)
		b = sidecar.AppendField(b, false, "small_map_count", smallMapCount)
		b = sidecar.AppendField(b, false, "big_map_count", bigMapCount)
		b = sidecar.AppendField(b, false, "chan_count", chanCount)
		b = sidecar.AppendField(b, false, "closure_count", closureCount)
		b = sidecar.AppendField(b, false, "shape_count", shapeCount)
		b = sidecar.AppendField(b, false, "holder_count", holderCount)
		b = sidecar.AppendField(b, false, "large_rec_count", largeRecCount)
		b = sidecar.AppendField(b, false, "garbage_objects", garbageScan+garbageNoscan+garbageLarge)
		b = sidecar.AppendField(b, false, "garbage_bytes", garbageScan*64+garbageNoscan*112+garbageLarge*largeSize)
		for _, f := range []struct {
			name string
			v    uintptr
		}{
			{"global_addr", globalAddr}, {"list_tail_addr", listTailAddr},
			{"stack_head_addr", stackHeadAddr}, {"stack_tail_addr", stackTailAddr},
			{"final_addr", finalAddr}, {"final_child_addr", finalChildAddr},
			{"garbage_addr", garbageAddr}, {"garbage_large_addr", garbageLargeAddr},
			{"tnode_addr", tnodeAddr}, {"tleaf_addr", tleafAddr},
			{"recs_addr", recsAddr}, {"box_addr", boxAddr},
			{"mkey_addr", mkeyAddr}, {"mval_addr", mvalAddr}, {"msmall_addr", msmallAddr},
			{"cval_addr", cvalAddr}, {"cclo_addr", ccloAddr},
			{"shape_addr", shapeAddr}, {"shared_addr", sharedAddr},
			{"large_recs_addr", largeRecsAddr}, {"lleaf_addr", lleafAddr},
		} {
			b = sidecar.AppendField(b, false, f.name, uint64(f.v))
		}
		b = append(b, `,"holder_addrs":[`...)
		for i, a := range holderAddrs {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendUint(b, uint64(a), 10)
		}
		b = append(b, ']')
		return append(b, '}')
	})
	crashInner(waitForGcore)
}

//go:noinline
func crashInner(waitForGcore bool) {
	if waitForGcore {
		sidecar.WriteAll(1, sidecar.ReadyMsg)
		<-never
	}
	panic("heapgraph: deliberate crash")
}
