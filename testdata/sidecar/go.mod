module goheap.test/sidecar

go 1.21
