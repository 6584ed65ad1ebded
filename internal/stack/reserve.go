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

// Reserved is how much stack Reserve makes room for below its caller. A
// resolver goroutine's deepest path, from gqlgen's dispatch through the
// loaders and the Covage client into net/http's transport, holds about
// 7 KiB of frames (summed from the binary's frame sizes along the deepest
// stacks of CPU profiles); the runtime doubles a stack until the frame that
// grows it fits, so this much room below a shallow caller means a 16 KiB
// stack, the largest the runtime still takes from its per-thread cache.
const Reserved = 8 << 10

// Reserve makes room for Reserved bytes of stack below the caller, so that
// the calls that follow do not grow the stack again. When the stack is large
// enough already, it costs a call.
func Reserve() { frame() }
