package loaders

import (
	"fmt"
	"runtime/debug"
	"sync/atomic"

	"github.com/graph-gophers/dataloader/v7"
)

// PanicError is what a panic in request work turns into when it happens
// where nothing above could recover it (a loader goroutine, a batching
// timer, a billing-site worker): the fields that needed the work fail with
// it, the error presenter logs its stack and shows INTERNAL_SERVER_ERROR,
// and the process goes on serving.
type PanicError struct {
	Value any
	Stack []byte

	reported atomic.Bool
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// FirstReport reports whether this is the first time the error is
// reported: one panic can fail hundreds of fields (every parent of a
// relation), and its stack needs logging once.
func (e *PanicError) FirstReport() bool { return !e.reported.Swap(true) }

// recovered turns r, the result of recover(), into a *PanicError; nil when
// there was no panic.
func recovered(r any) error {
	if r == nil {
		return nil
	}
	return &PanicError{Value: r, Stack: debug.Stack()}
}

// failAll answers every key with err.
func failAll[V any](n int, err error) []*dataloader.Result[V] {
	results := make([]*dataloader.Result[V], n)
	for i := range results {
		results[i] = &dataloader.Result[V]{Error: err}
	}
	return results
}
