package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/covage/gateway/internal/plan"
)

// Codes in extensions.code of requests refused before they reach GraphQL.
const (
	CodeBadRequest       = "BAD_REQUEST"
	CodePayloadTooLarge  = "PAYLOAD_TOO_LARGE"
	CodeMethodNotAllowed = "METHOD_NOT_ALLOWED"
	CodeNotAcceptable    = "NOT_ACCEPTABLE"
	CodeUnsupportedMedia = "UNSUPPORTED_MEDIA_TYPE"
	CodeCSRF             = "CSRF_PREVENTED"
	CodeTooManyRequests  = "TOO_MANY_REQUESTS"
)

const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// writeError answers with a GraphQL-shaped error body: every error the
// gateway sends, whatever its status, is a JSON object with an errors array.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", mediaJSON)
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	b, _ := json.Marshal(graphql.Response{Errors: gqlerror.List{{Message: msg, Extensions: map[string]any{"code": code}}}})
	// An error is never to be stored (httpcaching.go), but is named like
	// every other answer.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("ETag", etagOf(b))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// httpTransport serves GraphQL over HTTP as the GraphQL-over-HTTP spec
// (graphql.github.io/graphql-over-http) describes it, where gqlgen's GET
// and POST transports differ: the response media type follows Accept (406
// when neither JSON type is acceptable); with application/json every
// well-formed request gets 200, with application/graphql-response+json a
// request refused before execution gets 400; a body that is not JSON, or a
// request without a query, gets 400 without echoing the body; a body over
// the size limit gets 413; a mutation over GET gets 405 and does not run;
// another method gets 405 and another content type 415.
type httpTransport struct{ maxTokens int }

var _ graphql.Transport = httpTransport{}

// Supports takes every plain HTTP request; OPTIONS is answered by the
// transport registered before this one.
func (httpTransport) Supports(r *http.Request) bool { return r.Header.Get("Upgrade") == "" }

func (t httpTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	media, ok := negotiate(r.Header.Get("Accept"))
	if !ok {
		writeError(w, http.StatusNotAcceptable, CodeNotAcceptable, "the Accept header allows neither application/graphql-response+json nor application/json")
		return
	}
	w.Header().Set("Content-Type", media)
	params, status, code, msg := readParams(r)
	if status != 0 {
		if status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", "GET, POST, OPTIONS")
		}
		writeError(w, status, code, msg)
		return
	}
	if r.Method == http.MethodGet && t.mutation(params) {
		refuseGETMutation(w)
		return
	}
	ctx := r.Context()
	rc, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		status := http.StatusOK
		if media == mediaGraphQLResponse {
			status = http.StatusBadRequest
		}
		writeRefusal(w, status, exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs))
		return
	}
	if r.Method == http.MethodGet && rc.Operation.Operation != ast.Query {
		refuseGETMutation(w)
		return
	}
	responses, ctx := exec.DispatchOperation(withDelivery(ctx), rc)
	deliver(w, r, http.StatusOK, responses(ctx), rc.Operation.Operation == ast.Query)
}

func refuseGETMutation(w http.ResponseWriter) {
	w.Header().Set("Allow", "POST")
	writeError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, "only queries run over GET: send mutations with POST")
}

// mutation reports whether the operation a GET asks for is not a query. It
// looks before validation, so that a GET mutation is refused as one even
// when validation would refuse it too.
func (t httpTransport) mutation(p *graphql.RawParams) bool {
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, t.maxTokens)
	if err != nil {
		return false
	}
	op := doc.Operations.ForName(p.OperationName)
	return op != nil && op.Operation != ast.Query
}

// readParams reads the request's query, operationName, variables and
// extensions, or says which status and error to answer with.
func readParams(r *http.Request) (p *graphql.RawParams, status int, code, msg string) {
	p = &graphql.RawParams{Headers: r.Header}
	p.ReadTime.Start = graphql.Now()
	switch r.Method {
	case http.MethodGet:
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return nil, http.StatusBadRequest, CodeBadRequest, "the URL query string is malformed"
		}
		p.Query, p.OperationName = q.Get("query"), q.Get("operationName")
		if v := q.Get("variables"); v != "" {
			if err := decodeJSON(strings.NewReader(v), &p.Variables); err != nil {
				return nil, http.StatusBadRequest, CodeBadRequest, "the variables parameter is not a JSON object"
			}
		}
		if v := q.Get("extensions"); v != "" {
			if err := decodeJSON(strings.NewReader(v), &p.Extensions); err != nil {
				return nil, http.StatusBadRequest, CodeBadRequest, "the extensions parameter is not a JSON object"
			}
		}
	case http.MethodPost:
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != mediaJSON {
			return nil, http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "send GraphQL requests as application/json"
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
				return nil, http.StatusRequestEntityTooLarge, CodePayloadTooLarge, bodyLimitMessage(tooLarge.Limit)
			}
			return nil, http.StatusBadRequest, CodeBadRequest, "the request body could not be read"
		}
		if err := decodeJSON(bytes.NewReader(body), p); err != nil {
			return nil, http.StatusBadRequest, CodeBadRequest, "the request body is not a JSON object with query, operationName, variables and extensions"
		}
	default:
		return nil, http.StatusMethodNotAllowed, CodeMethodNotAllowed, "GraphQL is served over GET and POST"
	}
	p.ReadTime.End = graphql.Now()
	if p.Query == "" && p.Extensions["persistedQuery"] == nil {
		return nil, http.StatusBadRequest, CodeBadRequest, "the request has no query"
	}
	return p, 0, "", ""
}

// decodeJSON decodes one JSON value, keeping numbers exact, and refuses
// trailing data.
func decodeJSON(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// negotiate picks the response media type from Accept, in the client's
// order of preference; a missing Accept means application/json, as the spec
// asks for legacy clients.
func negotiate(accept string) (string, bool) {
	if strings.TrimSpace(accept) == "" {
		return mediaJSON, true
	}
	best, bestQ := "", -1.0
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		var m string
		switch mt {
		case mediaGraphQLResponse:
			m = mediaGraphQLResponse
		case mediaJSON, "application/*", "*/*":
			m = mediaJSON
		default:
			continue
		}
		if q > 0 && q > bestQ {
			best, bestQ = m, q
		}
	}
	return best, best != ""
}

// writeJSON writes resp as json.Marshal would, with a Content-Length, and
// without passing the data through the encoder again: gqlgen has already
// written it as compact JSON, and re-compacting a 500 KB answer was a sixth
// of the gateway's CPU. Only errors and extensions, which are small, are
// encoded here. Unlike json.Marshal, '<', '>' and '&' in the data are not
// escaped to \u003c and so on; both are the same JSON value.
//
// etag names the body: it is given the body's parts and its answer is
// sent as the ETag header.
func writeJSON(w http.ResponseWriter, status int, resp *graphql.Response, etag func(...[]byte) string) {
	_, body := bodyOf(resp, nil)
	body.write(w, status, body.etag(etag))
}

// answerBody is an answer's JSON body in parts: the data between what
// frame puts around it.
type answerBody struct {
	head, data, tail []byte
	// streams, when set, holds the lists streamed at delivery: the data
	// has a mark for each (internal/plan/streams.go), and size and tag
	// were measured by replaying them.
	streams *plan.Streams
	size    int
	tag     string
}

// internalError replaces an answer that cannot be encoded.
var internalError = &graphql.Response{Errors: gqlerror.List{{Message: "internal server error", Extensions: map[string]any{"code": "INTERNAL_SERVER_ERROR"}}}}

// bodyOf frames resp, or the internal error in its place when resp cannot
// be encoded (which bodyOf then returns). When resp's data has streamed lists, it replays them
// once to measure the body: its length, its ETag, and whether the data
// fits the response limit; past the limit, the answer becomes the
// limit's refusal, which bodyOf returns in resp's place.
func bodyOf(resp *graphql.Response, streams *plan.Streams) (*graphql.Response, answerBody) {
	head, tail, err := frame(resp)
	if err != nil {
		return bodyOf(internalError, nil)
	}
	data := []byte(resp.Data)
	if len(data) == 0 {
		data = []byte("null")
	}
	b := answerBody{head: head, data: data, tail: tail, size: len(head) + len(data) + len(tail)}
	if streams.Len() == 0 {
		return resp, b
	}
	t := newTagger()
	t.write(head)
	written := int64(0)
	if !streams.Replay(data, func(p []byte) bool {
		t.write(p)
		written += int64(len(p))
		return streams.Limit <= 0 || written <= streams.Limit
	}) {
		if streams.Limit > 0 && written > streams.Limit && streams.Over != nil {
			return bodyOf(streams.Over, nil)
		}
		return bodyOf(internalError, nil)
	}
	t.write(tail)
	b.streams, b.size, b.tag = streams, t.n, t.tag()
	return resp, b
}

// etag is the body's ETag: measured when its lists were streamed, else
// etag of its parts.
func (b answerBody) etag(etag func(...[]byte) string) string {
	if b.streams != nil {
		return b.tag
	}
	return etag(b.head, b.data, b.tail)
}

// write sends the body with its ETag and Content-Length.
func (b answerBody) write(w http.ResponseWriter, status int, tag string) {
	w.Header().Set("ETag", tag)
	w.Header().Set("Content-Length", strconv.Itoa(b.size))
	w.WriteHeader(status)
	if _, err := w.Write(b.head); err != nil {
		return
	}
	if b.streams == nil {
		_, err := w.Write(b.data)
		if err == nil {
			_, _ = w.Write(b.tail)
		}
		return
	}
	if b.streams.Replay(b.data, func(p []byte) bool {
		_, err := w.Write(p)
		return err == nil
	}) {
		_, _ = w.Write(b.tail)
	}
}

// frame returns what comes before and after the data in resp's JSON
// encoding, with graphql.Response's field order and omitempty rules.
func frame(resp *graphql.Response) (head, tail []byte, err error) {
	head = []byte(`{"data":`)
	if len(resp.Errors) > 0 {
		errs, err := json.Marshal(resp.Errors)
		if err != nil {
			return nil, nil, err
		}
		head = slices.Concat([]byte(`{"errors":`), errs, []byte(`,"data":`))
	}
	rest, err := json.Marshal(struct {
		Label      string         `json:"label,omitempty"`
		Path       ast.Path       `json:"path,omitempty"`
		HasNext    *bool          `json:"hasNext,omitempty"`
		Extensions map[string]any `json:"extensions,omitempty"`
	}{resp.Label, resp.Path, resp.HasNext, resp.Extensions})
	if err != nil {
		return nil, nil, err
	}
	if len(rest) == 2 { // {}
		return head, []byte("}"), nil
	}
	rest[0] = ','
	return head, rest, nil
}
