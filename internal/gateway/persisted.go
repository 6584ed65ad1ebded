package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Codes of refused persisted queries. PERSISTED_QUERY_NOT_FOUND is the code
// Apollo clients act on (they resend the full query when APQ is on).
const (
	CodePersistedQueryNotFound  = "PERSISTED_QUERY_NOT_FOUND"
	CodePersistedQueryNotInList = "PERSISTED_QUERY_NOT_IN_LIST"
)

// ManifestFormat is the format field of Apollo's persisted-query manifest.
const ManifestFormat = "apollo-persisted-query-manifest"

// Manifest is a persisted-query manifest in Apollo's format, as generated
// by @apollo/generate-persisted-query-manifest.
type Manifest struct {
	Format     string              `json:"format"`
	Version    int                 `json:"version"`
	Operations []ManifestOperation `json:"operations"`
}

// ManifestOperation is one safelisted operation.
type ManifestOperation struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
	Body string `json:"body"`
}

// LoadManifest reads and checks a manifest file.
func LoadManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("persisted-query manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("persisted-query manifest %s: %w", path, err)
	}
	if m.Format != ManifestFormat || m.Version != 1 {
		return nil, fmt.Errorf("persisted-query manifest %s: want format %q version 1", path, ManifestFormat)
	}
	seen := make(map[string]bool, len(m.Operations))
	for i, op := range m.Operations {
		if op.ID == "" || op.Body == "" {
			return nil, fmt.Errorf("persisted-query manifest %s: operation %d has no id or no body", path, i)
		}
		if seen[op.ID] {
			return nil, fmt.Errorf("persisted-query manifest %s: id %s is listed twice", path, op.ID)
		}
		seen[op.ID] = true
	}
	return &m, nil
}

// safelist serves the operations of a manifest by id (sent as APQ's
// extensions.persistedQuery.sha256Hash, the field Apollo clients use), and,
// when only is set, refuses every operation not in it: an unknown id gets
// PERSISTED_QUERY_NOT_FOUND and a free-form query whose text is not in the
// manifest gets PERSISTED_QUERY_NOT_IN_LIST. Without only, unknown ids fall
// through to APQ and free-form queries run.
type safelist struct {
	byID   map[string]string
	bodies map[string]bool // sha256 of each body
	only   bool
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = (*safelist)(nil)

func newSafelist(m *Manifest, only bool) *safelist {
	s := &safelist{byID: map[string]string{}, bodies: map[string]bool{}, only: only}
	if m != nil {
		for _, op := range m.Operations {
			s.byID[op.ID] = op.Body
			s.bodies[hash(op.Body)] = true
		}
	}
	return s
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func (*safelist) ExtensionName() string                   { return "PersistedQuerySafelist" }
func (*safelist) Validate(graphql.ExecutableSchema) error { return nil }

func (s *safelist) MutateOperationParameters(_ context.Context, p *graphql.RawParams) *gqlerror.Error {
	id, err := persistedID(p.Extensions)
	if err != nil {
		return limitError(CodeBadRequest, "%s", err.Error())
	}
	if body, ok := s.byID[id]; ok && id != "" {
		if p.Query != "" && p.Query != body {
			return limitError(CodeBadRequest, "the query does not match the persisted query %s", id)
		}
		p.Query = body
		// The id is resolved: APQ must not check it against the body, since
		// a manifest id need not be the body's hash.
		p.Extensions = maps.Clone(p.Extensions)
		delete(p.Extensions, "persistedQuery")
		return nil
	}
	if !s.only {
		return nil
	}
	if p.Query != "" && s.bodies[hash(p.Query)] {
		return nil
	}
	if p.Query == "" {
		return &gqlerror.Error{Message: "PersistedQueryNotFound", Extensions: map[string]any{"code": CodePersistedQueryNotFound}}
	}
	return limitError(CodePersistedQueryNotInList, "only operations in the persisted-query manifest run on this gateway")
}

// persistedID returns extensions.persistedQuery.sha256Hash, or "".
func persistedID(ext map[string]any) (string, error) {
	raw, ok := ext["persistedQuery"]
	if !ok || raw == nil {
		return "", nil
	}
	pq, ok := raw.(map[string]any)
	if !ok {
		return "", errors.New("extensions.persistedQuery must be an object")
	}
	id, _ := pq["sha256Hash"].(string)
	return id, nil
}
