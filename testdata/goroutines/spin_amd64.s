#include "textflag.h"

// func spinAsm(counter *uint64)
// Increments *counter forever. Assembly functions have no asynchronous
// preemption points, so the goroutine stays running on its thread while the
// runtime freezes the world for the crash.
TEXT ·spinAsm(SB),NOSPLIT,$0-8
	MOVQ	counter+0(FP), AX
loop:
	LOCK
	INCQ	(AX)
	PAUSE
	JMP	loop
