package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/covage/gateway/internal/config"
)

// TestKubernetesManifest loads deploy/kubernetes.yaml's settings through
// config.Load, so the manifest cannot drift from what the gateway accepts,
// and checks that it runs in production with caller authentication, that
// the scrape annotation and probes point at the admin port it sets, and
// that the grace period covers the drain.
func TestKubernetesManifest(t *testing.T) {
	raw, err := os.ReadFile("deploy/kubernetes.yaml")
	require.NoError(t, err)
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	var cm, deploy map[string]any
	for {
		var doc map[string]any
		if dec.Decode(&doc) != nil {
			break
		}
		switch doc["kind"] {
		case "ConfigMap":
			cm = doc
		case "Deployment":
			deploy = doc
		}
	}
	require.NotNil(t, cm)
	require.NotNil(t, deploy)

	env := map[string]string{"COVAGE_USERNAME": "from-secret", "COVAGE_PASSWORD": "from-secret"}
	for k, v := range cm["data"].(map[string]any) {
		env[k] = v.(string)
	}
	keys := filepath.Join(t.TempDir(), "keys")
	require.NoError(t, os.WriteFile(keys, nil, 0o600))
	require.Equal(t, "/etc/covage-gateway/api-keys/keys", env["AUTH_API_KEYS_FILE"])
	env["AUTH_API_KEYS_FILE"] = keys // the mounted Secret, here
	cfg, err := config.Load(func(k string) string { return env[k] })
	require.NoError(t, err)
	require.True(t, cfg.Security.Production())
	require.True(t, cfg.Callers.Enabled(), "callers authenticate")
	require.NotZero(t, cfg.AdminPort)

	pod := dig(deploy, "spec", "template")
	annotations := dig(pod, "metadata", "annotations")
	require.Equal(t, strconv.Itoa(cfg.AdminPort), annotations["prometheus.io/port"], "metrics are scraped on the admin port")
	spec := dig(pod, "spec")
	container := spec["containers"].([]any)[0].(map[string]any)
	ports := map[string]int{}
	for _, p := range container["ports"].([]any) {
		p := p.(map[string]any)
		ports[p["name"].(string)] = p["containerPort"].(int)
	}
	require.Equal(t, cfg.AdminPort, ports["admin"])
	require.Equal(t, cfg.Port, ports["http"])
	ready := dig(container, "readinessProbe", "httpGet")
	require.Equal(t, "/readyz", ready["path"])
	require.Contains(t, []any{"admin", "http"}, ready["port"])
	grace := spec["terminationGracePeriodSeconds"].(int)
	require.Greater(t, float64(grace), (cfg.ShutdownDelay + cfg.ShutdownTimeout).Seconds(), "the drain ends before SIGKILL")
	period := dig(container, "readinessProbe")["periodSeconds"].(int)
	require.Less(t, float64(period), cfg.ShutdownDelay.Seconds(), "the probe notices the drain within SHUTDOWN_DELAY")
}

func dig(m map[string]any, path ...string) map[string]any {
	for _, p := range path {
		m = m[p].(map[string]any)
	}
	return m
}
