package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"

	"github.com/covage/gateway/internal/config"
	"github.com/covage/gateway/internal/covage"
	"github.com/covage/gateway/internal/loadtest"
)

// serveFloor serves loadtest.Floor on addr until ctx ends. It reads the
// gateway's own settings from the environment (COVAGE_API_URL,
// COVAGE_API_TOKEN, COVAGE_CA_FILE, COVAGE_MAX_CONNS_PER_HOST,
// COVAGE_IDLE_CONN_TIMEOUT), with the gateway's parser, and builds the
// gateway's pool from them (covage.NewTransport), so that the floor and a
// gateway given the same environment differ only in what the gateway does
// between its round trips.
func serveFloor(ctx context.Context, addr, planPath, answerPath, contentType string) error {
	if planPath == "" || answerPath == "" {
		return errors.New("-serve-floor needs -floor-plan and -floor-answer")
	}
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return err
	}
	if cfg.Demo() {
		return errors.New("-serve-floor needs COVAGE_API_URL, the upstream the gateway under test calls")
	}
	plan, err := loadtest.ReadPlan(planPath)
	if err != nil {
		return err
	}
	answer, err := os.ReadFile(answerPath)
	if err != nil {
		return err
	}
	// The plan's paths are as the upstream saw them, any prefix of
	// COVAGE_API_URL included.
	base, err := url.Parse(cfg.CovageURL)
	if err != nil {
		return err
	}
	up := cfg.Upstream
	rt := covage.NewTransport(covage.Pool{MaxConnsPerHost: up.MaxConnsPerHost, IdleConnTimeout: up.IdleConnTimeout, RootCAs: up.RootCAs}, nil)
	defer rt.CloseIdleConnections()
	floor := &loadtest.Floor{
		Base: base.Scheme + "://" + base.Host, Plan: plan, Client: &http.Client{Transport: rt, Timeout: cfg.Timeout},
		Token: cfg.APIToken.Reveal(), Answer: answer, ContentType: contentType,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(http.ResponseWriter, *http.Request) {})
	mux.Handle("POST /query", floor)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return loadtest.Serve(ctx, ln, mux)
}
