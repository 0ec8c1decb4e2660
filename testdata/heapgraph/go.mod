module goheap/testdata/heapgraph

go 1.21

require goheap.test/sidecar v0.0.0

replace goheap.test/sidecar => ../sidecar
