package demo

import (
	"encoding/json"
	"net/http"
)

// StatsPath is where StatsHandler is mounted in demo mode, next to the data
// endpoints, so a load driver can count upstream calls per request.
const StatsPath = "/_demo/stats"

// Stats is a snapshot of the server's call counters.
type Stats struct {
	// Total is Total(): data requests served since the last Reset.
	Total int64 `json:"total"`
	// Calls is Calls(endpoint) for every endpoint.
	Calls map[string]int64 `json:"calls"`
	// Connections is Connections(): connections opened to the server
	// since the last Reset, when its http.Server counts them with
	// ConnState.
	Connections int64 `json:"connections"`
}

// Stats returns the current call counters.
func (s *Server) Stats() Stats {
	st := Stats{Total: s.Total(), Calls: make(map[string]int64, len(endpointNames)), Connections: s.Connections()}
	for _, name := range endpointNames {
		st.Calls[name] = s.Calls(name)
	}
	return st
}

// StatsHandler answers GET with s.Stats() as JSON. It is not part of
// Covage's API; the gateway's demo mode and cmd/loadtest mount it at
// StatsPath.
func StatsHandler(s *Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, err := json.Marshal(s.Stats())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, http.StatusOK, body)
	})
}

// Mux serves s with StatsHandler mounted at StatsPath.
func Mux(s *Server) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(StatsPath, StatsHandler(s))
	mux.Handle("/", s)
	return mux
}
