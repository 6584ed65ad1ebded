// Package stack grows a goroutine's stack in one step, near the top of the
// goroutine, where growing it is cheap.
//
// A goroutine starts with a small stack and the runtime doubles it each
// time a call needs more, copying the whole stack and adjusting every frame
// on it. A goroutine that goes deep once (a root field that runs gqlgen's
// field middlewares, the loaders, the Covage client and net/http's
// transport) grows two or three times, each time with tens of frames to
// walk: about a tenth of the gateway's CPU on the reasons query. Reserving
// the room before going deep grows it once, with a few frames to move.
package stack

// Reserved is how much stack Reserve makes room for below its caller: the
// deepest path of a resolver goroutine fits in it.
const Reserved = 24 << 10

// Reserve makes room for Reserved bytes of stack below the caller, so that
// the calls that follow do not grow the stack again. It costs a few hundred
// nanoseconds when the stack is already large enough.
func Reserve() { _ = frame(0) }

// frame has a frame of Reserved bytes: calling it is what makes the runtime
// grow the stack to hold it. i keeps the compiler from dropping the array.
//
//go:noinline
func frame(i int) byte {
	var b [Reserved]byte
	return b[i]
}
