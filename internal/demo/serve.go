package demo

import (
	"errors"
	"net"
	"net/http"
	"time"
)

// Start serves s on ln in the background, as the gateway's demo mode and
// the load tools run it: Mux (data plus /_demo/stats), connections counted,
// and with a non-nil cert, HTTPS and HTTP/2. It returns the base URL
// (http:// or https:// and ln's address) and stop, which closes the server
// and returns why it stopped serving before, if it did.
func Start(s *Server, ln net.Listener, cert *Certificate) (base string, stop func() error) {
	srv := &http.Server{Handler: Mux(s), ReadHeaderTimeout: 5 * time.Second, ConnState: s.ConnState}
	scheme := "http"
	serve := func() error { return srv.Serve(ln) }
	if cert != nil {
		scheme = "https"
		srv.TLSConfig = cert.ServerTLS()
		serve = func() error { return srv.ServeTLS(ln, "", "") }
	}
	done := make(chan error, 1)
	go func() { done <- serve() }()
	return scheme + "://" + ln.Addr().String(), func() error {
		_ = srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}
