package main

// spinAsm increments *counter forever (spin_amd64.s).
//
//go:noescape
func spinAsm(counter *uint64)
