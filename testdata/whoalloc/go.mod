module goheap/testdata/whoalloc

go 1.21
