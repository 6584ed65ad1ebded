package stack

import (
	"runtime"
	"runtime/debug"
	"testing"
	"unsafe"
)

// TestReserveMakesRoomOnce checks what Reserve is for: after it, a goroutine
// can go Reserved bytes deeper without its stack being moved. A stack that
// grows is copied to a new place, so a local variable's address changes
// then and only then.
func TestReserveMakesRoomOnce(t *testing.T) {
	// A collection could shrink the stack while the test runs, which moves
	// it too.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	runtime.GC()

	for _, tc := range []struct {
		name    string
		reserve bool
	}{{"reserved", true}, {"not reserved", false}} {
		t.Run(tc.name, func(t *testing.T) {
			moved := make(chan bool)
			go func() {
				var local byte
				if tc.reserve {
					Reserve()
				}
				before := uintptr(unsafe.Pointer(&local))
				deep(Reserved * 3 / 4)
				moved <- uintptr(unsafe.Pointer(&local)) != before
			}()
			if got := <-moved; got == tc.reserve {
				t.Errorf("stack moved: %v, want %v", got, !tc.reserve)
			}
		})
	}
}

// deep uses about n bytes of stack, in frames of 1 KiB.
//
//go:noinline
func deep(n int) byte {
	var b [1 << 10]byte
	b[n%len(b)] = byte(n)
	if n <= len(b) {
		return b[0]
	}
	return deep(n-len(b)) + b[n%len(b)]
}

// BenchmarkDeepGoroutine is a goroutine that goes as deep as a resolver's
// (about 7 KiB), with and without Reserve first.
func BenchmarkDeepGoroutine(b *testing.B) {
	for _, reserve := range []bool{false, true} {
		name := "grow-as-needed"
		if reserve {
			name = "reserve"
		}
		b.Run(name, func(b *testing.B) {
			done := make(chan struct{})
			for b.Loop() {
				go func() {
					if reserve {
						Reserve()
					}
					deep(7 << 10)
					done <- struct{}{}
				}()
				<-done
			}
		})
	}
}
