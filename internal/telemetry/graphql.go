package telemetry

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// tracerName identifies the gateway's own spans.
const tracerName = "github.com/covage/gateway"

// GraphQL observes GraphQL requests: install Middleware around the /query
// handler (inside WithRequestID) and Extension in the gqlgen server.
type GraphQL struct {
	metrics *Metrics
	tracer  trace.Tracer
	log     *slog.Logger
	// tracing is false without a tracer provider: then no span is started
	// and no trace context read, which a no-op tracer would still pay for
	// on every request.
	tracing bool
}

// NewGraphQL returns the GraphQL observer. m and tp may be nil.
func NewGraphQL(m *Metrics, tp trace.TracerProvider, log *slog.Logger) *GraphQL {
	tracing := Tracing(tp)
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	if log == nil {
		log = slog.Default()
	}
	return &GraphQL{metrics: m, tracer: tp.Tracer(tracerName), log: log, tracing: tracing}
}

// Middleware writes one log line and one histogram sample per GraphQL
// request, once it is answered, and continues a W3C trace the client sent.
// The line never holds the query's variables or any header but the request
// id.
func (g *GraphQL) Middleware(next http.Handler) http.Handler {
	prop := propagation.TraceContext{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			// CORS preflights are not GraphQL requests.
			next.ServeHTTP(w, r)
			return
		}
		req := FromContext(r.Context())
		if req == nil {
			req = &Request{start: time.Now()}
			r = r.WithContext(context.WithValue(r.Context(), requestKey{}, req))
		}
		if g.tracing {
			r = r.WithContext(prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header)))
		}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		elapsed := time.Since(req.start)

		if sw.status >= 400 {
			// Refused before GraphQL ran (size, CSRF, rate limit...): the
			// code is only in the small error body.
			req.addResult(sw.codes(), true, false)
		}
		req.mu.Lock()
		op, opType, codes := req.operation, req.opType, req.codes
		outcome := "ok"
		switch {
		case sw.status >= 400 || (req.errors && !req.data):
			outcome = "error"
		case req.errors:
			outcome = "partial"
		}
		req.mu.Unlock()
		if op == "" {
			op = opAnonymous
		}
		g.metrics.observeGraphQL(op, outcome, elapsed)
		level := slog.LevelInfo
		if outcome == "error" {
			level = slog.LevelWarn
		}
		if codes == nil {
			codes = []string{}
		}
		g.log.LogAttrs(r.Context(), level, "graphql request",
			slog.String("request_id", req.ID),
			slog.String("operation", op),
			slog.String("operation_type", opType),
			slog.String("outcome", outcome),
			slog.Int("status", sw.status),
			slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
			slog.Int64("upstream_calls", req.UpstreamCalls()),
			slog.Any("error_codes", codes))
	})
}

// Extension returns the gqlgen extension that records each operation's
// name, type and error codes for Middleware, and traces it: one span per
// operation, parent of its dataloader batches and upstream calls.
func (g *GraphQL) Extension() graphql.HandlerExtension { return extension{g} }

type extension struct{ g *GraphQL }

var (
	_ graphql.HandlerExtension    = extension{}
	_ graphql.ResponseInterceptor = extension{}
)

func (extension) ExtensionName() string                   { return "Telemetry" }
func (extension) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse wraps the execution of an operation, and also sees the
// parse and validation failures that never reach execution.
func (e extension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	name, opType := "", ""
	if graphql.HasOperationContext(ctx) {
		if oc := graphql.GetOperationContext(ctx); oc != nil && oc.Operation != nil {
			name, opType = oc.Operation.Name, string(oc.Operation.Operation)
		}
	}
	label := e.g.metrics.operationLabel(name)
	req := FromContext(ctx)
	if req != nil {
		req.setOperation(label, opType)
	}

	span := trace.SpanFromContext(ctx) // a no-op span unless tracing
	if e.g.tracing {
		spanName := "graphql"
		if opType != "" {
			spanName = opType
		}
		if name != "" {
			spanName += " " + label
		}
		ctx, span = e.g.tracer.Start(ctx, spanName, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(
				attribute.String("graphql.operation.name", name),
				attribute.String("graphql.operation.type", opType)))
		defer span.End()
		if req != nil && req.ID != "" {
			span.SetAttributes(attribute.String("request.id", req.ID))
		}
	}

	resp := next(ctx)
	if resp == nil {
		return resp
	}
	var errCodes []string
	for _, err := range resp.Errors {
		code, _ := err.Extensions["code"].(string)
		if code == "" {
			code = "UNKNOWN"
		}
		errCodes = append(errCodes, code)
	}
	hasData := len(resp.Data) > 0 && string(resp.Data) != "null"
	if req != nil {
		req.addResult(errCodes, len(resp.Errors) > 0, hasData)
	}
	if len(errCodes) > 0 && e.g.tracing {
		span.SetAttributes(attribute.StringSlice("graphql.error_codes", errCodes))
		span.SetStatus(codes.Error, errCodes[0])
	}
	return resp
}

// maxErrorBody bounds what statusWriter keeps of an error body.
const maxErrorBody = 4 << 10

// statusWriter remembers the status code written and, for an error status,
// the start of the body.
type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	errBody     []byte
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	if w.status >= 400 && len(w.errBody) < maxErrorBody {
		w.errBody = append(w.errBody, b[:min(len(b), maxErrorBody-len(w.errBody))]...)
	}
	return w.ResponseWriter.Write(b)
}

// codes returns the extensions.code values of an error body.
func (w *statusWriter) codes() []string {
	var body struct {
		Errors []struct {
			Extensions struct {
				Code string `json:"code"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	if json.Unmarshal(w.errBody, &body) != nil {
		return nil
	}
	var out []string
	for _, e := range body.Errors {
		if e.Extensions.Code != "" {
			out = append(out, e.Extensions.Code)
		}
	}
	return out
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
