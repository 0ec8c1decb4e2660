module goheap/testdata/heapshape

go 1.21
