//go:build amd64 || arm64

#include "textflag.h"
#include "funcdata.h"

// func frame(), for amd64 and arm64 alike.
// A frame of Reserved bytes (8 KiB) that is never written: the prologue's
// stack check is what grows the stack, and nothing is zeroed.
TEXT ·frame(SB), 0, $8192-0
	NO_LOCAL_POINTERS
	RET
