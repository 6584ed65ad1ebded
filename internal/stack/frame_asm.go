//go:build amd64 || arm64

package stack

// frame has a frame of Reserved bytes, declared in assembly so that calling
// it grows the stack without writing the frame (frame.s, the same source
// for both architectures).
func frame()
