package gateway

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNegotiate checks the Accept header's parsing.
func TestNegotiate(t *testing.T) {
	for accept, want := range map[string]string{
		"":                                  mediaJSON,
		"application/json":                  mediaJSON,
		"application/graphql-response+json": mediaGraphQLResponse,
		"text/html, */*;q=0.1":              mediaJSON,
		"application/graphql-response+json;q=0, application/json": mediaJSON,
		"text/html":            "",
		"application/json;q=0": "",
	} {
		got, ok := negotiate(accept)
		require.Equal(t, want, got, accept)
		require.Equal(t, want != "", ok, accept)
	}
}
