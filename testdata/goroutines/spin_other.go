//go:build !amd64

package main

import "sync/atomic"

// spinAsm increments *counter forever (a Go loop on architectures without
// the assembly version).
func spinAsm(counter *uint64) {
	for {
		atomic.AddUint64(counter, 1)
	}
}
