//go:build tools

// Package tools pins the code generators this module runs, so that
// `go generate ./...` uses the version in go.mod.
package main

import _ "github.com/99designs/gqlgen"
