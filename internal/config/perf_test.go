package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPerf(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		want    Perf
		wantErr string
	}{
		{"defaults", nil, Perf{}, ""},
		{"demo load shape", map[string]string{"DEMO_DATA_SIZE": " 500, 2000 ,50", "DEMO_LATENCY": "20ms", "PPROF": "true"},
			Perf{Pprof: true, DemoSize: DemoSize{500, 2000, 50}, DemoLatency: 20 * time.Millisecond}, ""},
		{"two numbers", map[string]string{"DEMO_DATA_SIZE": "500,2000"}, Perf{}, "DEMO_DATA_SIZE"},
		{"no clients", map[string]string{"DEMO_DATA_SIZE": "5,5,0"}, Perf{}, "DEMO_DATA_SIZE"},
		{"negative", map[string]string{"DEMO_DATA_SIZE": "-1,5,5"}, Perf{}, "DEMO_DATA_SIZE"},
		{"bad latency", map[string]string{"DEMO_LATENCY": "slow"}, Perf{}, "DEMO_LATENCY"},
		{"demo over TLS", map[string]string{"DEMO_TLS": "true"}, Perf{DemoTLS: true}, ""},
		{"bad demo TLS", map[string]string{"DEMO_TLS": "yes please"}, Perf{}, "DEMO_TLS"},
		{"bad pprof", map[string]string{"PPROF": "maybe"}, Perf{}, "PPROF"},
		{"gc headroom off", map[string]string{"GC_HEADROOM_MB": "0"}, Perf{}, ""},
		{"gc headroom", map[string]string{"GC_HEADROOM_MB": "256"}, Perf{GCHeadroomMB: 256}, ""},
		{"negative gc headroom", map[string]string{"GC_HEADROOM_MB": "-1"}, Perf{}, "GC_HEADROOM_MB"},
		{"gc headroom past 64 GiB", map[string]string{"GC_HEADROOM_MB": "65537"}, Perf{}, "GC_HEADROOM_MB"},
		{"streaming off", map[string]string{"STREAM_MIN_KB": "0"}, Perf{}, ""},
		{"streaming from 64 KiB", map[string]string{"STREAM_MIN_KB": "64"}, Perf{StreamMinKB: 64}, ""},
		{"negative stream size", map[string]string{"STREAM_MIN_KB": "-1"}, Perf{}, "STREAM_MIN_KB"},
		{"demo settings against Covage", map[string]string{"COVAGE_API_URL": "https://api.example", "DEMO_LATENCY": "20ms"}, Perf{}, "demo mode"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(env(tc.env))
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			want := tc.want
			if _, set := tc.env["GC_HEADROOM_MB"]; !set {
				want.GCHeadroomMB = DefaultGCHeadroomMB
			}
			if _, set := tc.env["STREAM_MIN_KB"]; !set {
				want.StreamMinKB = DefaultStreamMinKB
			}
			require.Equal(t, want, c.Perf)
			require.Equal(t, tc.want.DemoSize.Generated(), c.Perf.DemoSize.Generated())
		})
	}
}
