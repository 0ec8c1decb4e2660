module goheap/bench/bigheap

go 1.21
