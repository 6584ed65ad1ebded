package demo

import (
	"net"
	"net/http"
)

// ConnState counts the connections clients open; set it as the
// http.Server's ConnState. Load tests read the count in Stats to see
// whether the gateway reuses its connections to Covage, whatever build of
// the gateway they drive.
func (s *Server) ConnState(_ net.Conn, state http.ConnState) {
	if state == http.StateNew {
		s.conns.Add(1)
	}
}

// Connections returns how many connections ConnState has seen opened since
// the last Reset.
func (s *Server) Connections() int64 { return s.conns.Load() }
