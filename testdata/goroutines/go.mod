module goheap/testdata/goroutines

go 1.21
