package covage_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/covage/gateway/internal/covage"
)

// TestCallBudget checks that the budget of a detached call covers every
// attempt and the longest wait between two of them, from the Client's own
// settings and defaults.
func TestCallBudget(t *testing.T) {
	tests := []struct {
		name string
		cfg  covage.Config
		want time.Duration
	}{
		{"defaults: one attempt", covage.Config{}, 10 * time.Second},
		{"three attempts, Retry-After cap above the backoff cap", covage.Config{Timeout: time.Second, MaxAttempts: 3, MaxRetryAfter: 5 * time.Second},
			3*time.Second + 2*5*time.Second},
		{"backoff cap above the Retry-After cap", covage.Config{Timeout: time.Second, MaxAttempts: 2, MaxRetryAfter: time.Second, RetryMaxDelay: 4 * time.Second},
			2*time.Second + 4*time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.BaseURL = "http://127.0.0.1:1/api"
			c, err := covage.New(tc.cfg)
			require.NoError(t, err)
			require.Equal(t, tc.want, c.CallBudget())
		})
	}
}
