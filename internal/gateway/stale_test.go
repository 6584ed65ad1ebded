package gateway_test

import (
	"fmt"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestStalePathsExact checks that extensions.stale names the exact path of
// every field answered from stale data: each alias of a shared list, and
// each parent's relation field, whether the relation is written by the
// fast path or resolved by gqlgen's batch resolver, and nothing else.
func TestStalePathsExact(t *testing.T) {
	// Indexes of the sample projects with a client code (PRJ-INTERNE,
	// the last one, has none and reads no door list).
	var withClient []int
	for i := range 11 {
		withClient = append(withClient, i)
	}
	relationPaths := func(field string) []string {
		var out []string
		for _, i := range withClient {
			out = append(out, fmt.Sprintf("projects/%d/%s", i, field))
		}
		return out
	}
	cases := []struct {
		name, query string
		want        []string
	}{
		{"two aliases of one list", `{ a: ennis { reference } b: ennis { label } terminateReasons { code } }`, []string{"a", "b"}},
		{"a relation on the fast path", `{ projects { code ennis { reference } } }`, relationPaths("ennis")},
		{"an aliased relation through gqlgen", `{ projects { code doors: ennis { reference projects { code } } } }`, relationPaths("doors")},
		{"a root list beside the relation that reads it", `{ ennis { reference } projects { ennis { label } } }`, append([]string{"ennis"}, relationPaths("ennis")...)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, shortCache(), retries(1))
			want := e.mustQuery(t, tc.query, nil)
			time.Sleep(shortTTL + 10*time.Millisecond)
			e.fault(upEnnis, status(http.StatusServiceUnavailable, `{}`))
			r := e.query(t, tc.query, nil)
			require.Empty(t, r.Errors, r.Body)
			require.JSONEq(t, string(want), string(r.Data))
			var got []string
			for _, s := range staleOf(t, r.Body) {
				require.Equal(t, "enni", s.Endpoint, r.Body)
				p := ""
				for i, part := range s.Path {
					if i > 0 {
						p += "/"
					}
					p += fmt.Sprint(part)
				}
				got = append(got, p)
			}
			sort.Strings(got)
			sort.Strings(tc.want)
			require.Equal(t, tc.want, got, r.Body)
		})
	}
}
