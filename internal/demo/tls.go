package demo

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// Certificate is a self-signed TLS certificate for the demo upstream,
// valid for the loopback addresses and "localhost" only.
type Certificate struct {
	// TLS is what a server presents.
	TLS tls.Certificate
	// PEM is the certificate alone, PEM-encoded: what a client adds to its
	// roots (the gateway through COVAGE_CA_FILE) to trust the demo.
	PEM []byte
}

// SelfSigned generates a fresh ECDSA P-256 certificate, valid for a day,
// that is its own CA. It is made at every start, so no private key is ever
// committed or written to disk.
func SelfSigned() (Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Certificate{}, fmt.Errorf("demo certificate: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return Certificate{}, fmt.Errorf("demo certificate: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Covage demo upstream"},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return Certificate{}, fmt.Errorf("demo certificate: %w", err)
	}
	return Certificate{
		TLS: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
	}, nil
}

// ServerTLS is the server side of the demo's TLS: the certificate, TLS 1.2
// at least, and HTTP/2 offered before HTTP/1.1 as Covage's load balancer
// does. Session tickets are on (Go's default), so a client with a session
// cache resumes instead of doing a full handshake on every new connection.
func (c Certificate) ServerTLS() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{c.TLS},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2", "http/1.1"},
	}
}
