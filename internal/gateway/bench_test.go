package gateway_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/covage/gateway/internal/cache"
	"github.com/covage/gateway/internal/demo"
	"github.com/covage/gateway/internal/gateway"
)

// benchSize is the generated dataset the end-to-end benchmarks serve:
// projects, doors and clients. The default is the shape the issue compares
// against Apollo: 500 projects, 2,000 doors, 50 clients.
var benchSize = flag.String("benchsize", "500,2000,50", "projects,ennis,clients generated for the end-to-end benchmarks")

// billingCodes is 50 billing-site codes of which 40 are distinct.
var billingCodes = func() string {
	codes := make([]string, 0, 50)
	for i := range 50 {
		codes = append(codes, strconv.Quote(fmt.Sprintf("BS%04d", i%40+1)))
	}
	return strings.Join(codes, ", ")
}()

// benchQueries are the representative queries of issue 6.
var benchQueries = []struct {
	name    string
	query   string
	latency time.Duration // upstream latency
}{
	{"projects_ennis", `{ projects { code ennis { reference } } }`, 0},
	{"reasons", `{ terminateReasons { code label } changeReasons { code label } siteConnectionTypes { code label } }`, 0},
	{"billing_sites_20ms", `{ billingSites(codes: [` + billingCodes + `]) { code description } }`, 20 * time.Millisecond},
	{"ennis_bpea_active", `{ ennis(filter: {offer: BPEA, active: true}) { reference label offer } }`, 0},
}

// benchModes are the gateway configurations each query runs under: without
// the shared cache, with it warm (the request before the timing fills it;
// its 5-minute TTL outlasts any run), and with the response cache on top,
// as the gateway runs by default.
var benchModes = []struct {
	name string
	opts []option
}{
	{"cache=off", nil},
	{"cache=warm", []option{withCache(cache.Config{})}},
	{"cache=warm+responses", []option{withCache(cache.Config{}), withGateway(func(o *gateway.Options) {
		o.ResponseCache = gateway.ResponseCache{MaxBytes: 32 << 20}
	})}},
}

// BenchmarkQuery runs each representative query end to end: an HTTP POST to
// the real handler (gateway.New), the covage client, and the in-process demo
// upstream serving generated data. Every op reads the whole response; the
// client does not decode it, so the figures are the gateway's plus the
// demo's. upstream/op is the upstream requests per query.
//
//	go test ./internal/gateway -run '^$' -bench Query -benchmem [-benchsize 5000,20000,500]
func BenchmarkQuery(b *testing.B) {
	p, n, c, err := parseSize(*benchSize)
	if err != nil {
		b.Fatal(err)
	}
	data := demo.Generate(p, n, c)
	for _, m := range benchModes {
		for _, q := range benchQueries {
			b.Run(m.name+"/"+q.name, func(b *testing.B) {
				opts := append([]option{withData(data), withDemo(demo.WithLatency(q.latency))}, m.opts...)
				e := newEnv(b, opts...)
				body, err := json.Marshal(map[string]string{"query": q.query})
				if err != nil {
					b.Fatal(err)
				}
				var buf bytes.Buffer
				// One request outside the timing checks the answer and warms
				// the query cache (and the shared cache, when on).
				e.post(b, body, &buf)
				e.upstream()
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					e.post(b, body, &buf)
				}
				b.StopTimer()
				b.ReportMetric(float64(len(e.upstream()))/float64(b.N), "upstream/op")
				b.ReportMetric(float64(buf.Len()), "resp-bytes")
			})
		}
	}
}

// post sends a GraphQL request and reads the answer into buf, failing the
// benchmark on a non-200 status or a GraphQL error. It does not decode the
// body, so the client's JSON work stays out of the profile, and it asks
// for no compression.
func (e *env) post(b *testing.B, body []byte, buf *bytes.Buffer) {
	e.postEncoded(b, body, buf, "identity")
}

// postEncoded is post with an Accept-Encoding; the answer is read as sent.
func (e *env) postEncoded(b *testing.B, body []byte, buf *bytes.Buffer, encoding string) {
	req, err := http.NewRequest(http.MethodPost, e.gateway.URL+"/query", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	// Set explicitly, so the transport neither adds gzip nor decodes.
	req.Header.Set("Accept-Encoding", encoding)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	if got := resp.Header.Get("Content-Encoding"); encoding != "identity" && got != encoding {
		b.Fatalf("asked for %s, got Content-Encoding %q", encoding, got)
	}
	buf.Reset()
	_, err = io.Copy(buf, resp.Body)
	resp.Body.Close()
	if err != nil {
		b.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || encoding == "identity" && bytes.Contains(buf.Bytes(), []byte(`"errors"`)) {
		b.Fatalf("status %d: %.500s", resp.StatusCode, buf.String())
	}
}

// parseSize reads "projects,ennis,clients".
func parseSize(s string) (p, n, c int, err error) {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return 0, 0, 0, fmt.Errorf("benchsize %q: want projects,ennis,clients", s)
	}
	var v [3]int
	for i, part := range parts {
		if v[i], err = strconv.Atoi(strings.TrimSpace(part)); err != nil || v[i] < 0 {
			return 0, 0, 0, fmt.Errorf("benchsize %q: want three whole numbers", s)
		}
	}
	return v[0], v[1], v[2], nil
}

// BenchmarkQueryEncoding is the projects-and-doors answer cold (no shared
// cache) and warm (shared and response caches), sent as it is, with gzip
// and with zstd, side by side in one process. resp-bytes is the size on
// the wire. The figures include the client and the demo upstream; the
// gateway's own CPU per request is measured out of process by
// test/bench/delivery.sh.
//
//	go test ./internal/gateway -run '^$' -bench QueryEncoding -benchmem
func BenchmarkQueryEncoding(b *testing.B) {
	p, n, c, err := parseSize(*benchSize)
	if err != nil {
		b.Fatal(err)
	}
	data := demo.Generate(p, n, c)
	body := []byte(`{"query":"{ projects { code ennis { reference } } }"}`)
	for _, m := range []struct {
		name string
		opts []option
	}{
		{"cold", nil},
		{"warm", []option{withCache(cache.Config{}), withGateway(func(o *gateway.Options) { o.ResponseCache = gateway.ResponseCache{MaxBytes: 32 << 20} })}},
	} {
		e := newEnv(b, append([]option{withData(data)}, m.opts...)...)
		for _, enc := range []string{"identity", "gzip", "zstd"} {
			b.Run(m.name+"/"+enc, func(b *testing.B) {
				var buf bytes.Buffer
				e.postEncoded(b, body, &buf, enc)
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					e.postEncoded(b, body, &buf, enc)
				}
				b.StopTimer()
				b.ReportMetric(float64(buf.Len()), "resp-bytes")
			})
		}
	}
}
