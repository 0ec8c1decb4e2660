module goheap/bench/memprof

go 1.21
