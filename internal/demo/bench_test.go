package demo_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/covage/gateway/internal/demo"
)

// BenchmarkServe measures the handler alone, without a network, on
// generated data of benchmark size.
func BenchmarkServe(b *testing.B) {
	ds := demo.Generate(2000, 2000, 50)
	benchmarks := []struct {
		name string
		opts []demo.Option
		path string
	}{
		{"unfiltered enni", nil, api + "enni/"},
		{"filtered enni", nil, api + "enni/?offer=BPEA&active=true"},
		{"paginated enni", []demo.Option{demo.WithPageSize(100)}, api + "enni/?page=7"},
		{"billing site", nil, api + "billing_site/BS0100/"},
	}
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			s := demo.New(ds, bm.opts...)
			req := httptest.NewRequest(http.MethodGet, bm.path, nil)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					rec := httptest.NewRecorder()
					s.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Errorf("status %d", rec.Code)
					}
				}
			})
		})
	}
}
