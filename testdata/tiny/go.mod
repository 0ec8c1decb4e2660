module goheap/testdata/tiny

go 1.21
