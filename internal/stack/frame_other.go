//go:build !amd64 && !arm64

package stack

// frame has a frame of Reserved bytes: calling it is what makes the runtime
// grow the stack to hold it. Go zeroes the array, which the assembly of
// amd64 and arm64 avoids; i keeps the compiler from dropping it.
func frame() { _ = zeroed(0) }

//go:noinline
func zeroed(i int) byte {
	var b [Reserved]byte
	return b[i]
}
