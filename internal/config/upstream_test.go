package config

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/demo"
)

func TestUpstream(t *testing.T) {
	cert, err := demo.SelfSigned()
	require.NoError(t, err)
	dir := t.TempDir()
	good := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(good, cert.PEM, 0o600))
	notPEM := filepath.Join(dir, "ca.txt")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a certificate"), 0o600))

	cases := []struct {
		name    string
		env     map[string]string
		want    Upstream // RootCAs is checked apart
		trusted bool     // the demo certificate verifies against RootCAs
		wantErr string
	}{
		{"defaults", nil, Upstream{MaxConnsPerHost: DefaultMaxConnsPerHost, IdleConnTimeout: 90 * time.Second}, false, ""},
		{"set", map[string]string{"COVAGE_MAX_CONNS_PER_HOST": "32", "COVAGE_IDLE_CONN_TIMEOUT": "5m", "COVAGE_CA_FILE": good},
			Upstream{MaxConnsPerHost: 32, IdleConnTimeout: 5 * time.Minute, CAFile: good}, true, ""},
		{"zero conns", map[string]string{"COVAGE_MAX_CONNS_PER_HOST": "0"}, Upstream{}, false, "COVAGE_MAX_CONNS_PER_HOST"},
		{"zero idle timeout", map[string]string{"COVAGE_IDLE_CONN_TIMEOUT": "0s"}, Upstream{}, false, "COVAGE_IDLE_CONN_TIMEOUT"},
		{"missing CA file", map[string]string{"COVAGE_CA_FILE": filepath.Join(dir, "nope.pem")}, Upstream{}, false, "COVAGE_CA_FILE"},
		{"CA file without PEM", map[string]string{"COVAGE_CA_FILE": notPEM}, Upstream{}, false, "COVAGE_CA_FILE"},
		{"DEMO_TLS against Covage", map[string]string{"COVAGE_API_URL": "https://api.example", "DEMO_TLS": "true"}, Upstream{}, false, "DEMO_TLS"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(env(tc.env))
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			got := c.Upstream
			require.Equal(t, tc.trusted, got.RootCAs != nil)
			if tc.trusted {
				// The system roots stay trusted next to the file's CA.
				sys, err := x509.SystemCertPool()
				require.NoError(t, err)
				require.Greater(t, len(got.RootCAs.Subjects()), len(sys.Subjects())) //nolint:staticcheck // a count is all we need
				block, _ := pem.Decode(cert.PEM)
				leaf, err := x509.ParseCertificate(block.Bytes)
				require.NoError(t, err)
				_, err = leaf.Verify(x509.VerifyOptions{Roots: got.RootCAs, DNSName: "localhost"})
				require.NoError(t, err)
			}
			got.RootCAs = nil
			require.Equal(t, tc.want, got)
		})
	}
}
