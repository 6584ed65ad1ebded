package telemetry

import "github.com/prometheus/client_golang/prometheus"

// RedisOps counts the operations of the shared layer in Redis as
// gateway_redis_operations_total{op,result}. It lives apart from Metrics
// because only a gateway with REDIS_URL has it.
type RedisOps struct {
	ops *prometheus.CounterVec
}

// NewRedisOps registers the counter on m's registry. A nil m gives a
// RedisOps that counts nothing.
func NewRedisOps(m *Metrics) *RedisOps {
	if m == nil {
		return nil
	}
	r := &RedisOps{ops: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gateway_redis_operations_total",
		Help: "Redis operations by op (cache_get, cache_claim, cache_store, cache_release, cache_extend, apq_get, apq_set, ratelimit, ping) and result (ok, miss, error, timeout, skipped while Redis is down, canceled by the caller).",
	}, []string{"op", "result"})}
	m.reg.MustRegister(r.ops)
	return r
}

// Observe counts one operation. Safe on a nil *RedisOps.
func (r *RedisOps) Observe(op, result string) {
	if r != nil {
		r.ops.WithLabelValues(op, result).Inc()
	}
}
