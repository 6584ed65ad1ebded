package gateway

import (
	"net/http"
	"net/http/pprof"
)

// mountPprof serves the runtime profiles under /debug/pprof/. It is wired
// only when Options.Pprof is set (PPROF=true): profiles expose internals and
// a CPU profile costs CPU while it runs. The handlers are registered on the
// gateway's own mux, never on http.DefaultServeMux.
func mountPprof(mux *http.ServeMux) {
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}
