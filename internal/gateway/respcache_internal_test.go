package gateway

import (
	"context"
	"fmt"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestResponseCacheCountsCapacity keeps answers whose buffers grew far
// past their length, as gqlgen's response buffer does, and checks that the
// memory the cache holds (the capacity of what it keeps) stays within
// MaxBytes and is what it counts.
func TestResponseCacheCountsCapacity(t *testing.T) {
	const maxBytes = 64 << 10
	rc := newResponseCache(ResponseCache{MaxBytes: maxBytes}, func(context.Context) string { return "id" })
	for i := range 200 {
		oc := &graphql.OperationContext{RawQuery: fmt.Sprintf("{ q%d }", i), Operation: &ast.OperationDefinition{Operation: ast.Query}}
		ctx := graphql.WithOperationContext(context.Background(), oc)
		rc.InterceptResponse(ctx, func(context.Context) *graphql.Response {
			data := make([]byte, 0, 64<<10) // an 8 KB answer in a 64 KB buffer
			data = append(data, fmt.Sprintf(`{"q":"%08000d"}`, i)...)
			return &graphql.Response{Data: data}
		})
	}
	var held int64
	for _, k := range rc.lru.Keys() {
		r, _ := rc.lru.Peek(k)
		held += int64(cap(r.data))
	}
	require.NotZero(t, rc.lru.Len())
	require.Equal(t, held, rc.bytes, "the count is the capacity held")
	require.LessOrEqual(t, held, int64(maxBytes))
}
