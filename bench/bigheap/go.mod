module goheap/bench/bigheap

go 1.21

require goheap.test/sidecar v0.0.0

replace goheap.test/sidecar => ../../testdata/sidecar
