//go:build go1.27

//go:debug tracebacklabels=1

// Go 1.27 prints pprof labels in tracebacks by default, but a go.mod saying
// "go 1.21" selects the old default; this turns it back on so that the
// traceback shows the labels goheap's test compares. Older toolchains do not
// know the setting (and do not print labels).
package main
