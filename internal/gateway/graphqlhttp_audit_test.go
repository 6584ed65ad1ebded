package gateway_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestGraphQLOverHTTPAudit runs the graphql-http audit suite (npm package
// graphql-http, its auditServer) from test/graphql-http against a gateway
// on loopback: every MUST and SHOULD audit must pass. It needs node and
// `npm ci --prefix test/graphql-http` (.ci/run does both); without them it
// is skipped, unless CI is set.
func TestGraphQLOverHTTPAudit(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("..", "..", "test", "graphql-http"))
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join(dir, "node_modules", "graphql-http"))
	if err != nil || modErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the graphql-http audit needs node and `npm ci --prefix test/graphql-http` (node: %v, modules: %v)", err, modErr)
		}
		t.Skip("node or test/graphql-http/node_modules missing; run `npm ci --prefix test/graphql-http`")
	}
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "audit.mjs", e.gateway.URL+"/query")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	t.Logf("graphql-http audit:\n%s", out)
	if err != nil {
		t.Fatalf("graphql-http audit failed: %v", err)
	}
}
