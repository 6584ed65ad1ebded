package covage_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/covage/gateway/internal/covage"
)

func Example() {
	// A stand-in for Covage that knows one billing site.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/referential/billing_site/AUX00/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, `{"code":"AUX00","description":"COVAGE INFRA"}`)
	}))
	defer srv.Close()

	client, err := covage.New(covage.Config{
		BaseURL: srv.URL,
		Timeout: 5 * time.Second,
		Auth:    covage.StaticToken("not-a-real-token"),
		Logger:  slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	site, err := client.BillingSite(ctx, "AUX00")
	fmt.Println(site.Code, *site.Description, err)

	_, err = client.BillingSite(ctx, "NOPE")
	var e *covage.Error
	fmt.Println(errors.Is(err, covage.ErrNotFound), errors.As(err, &e) && e.StatusCode == 404)
	fmt.Println(err)
	// Output:
	// AUX00 COVAGE INFRA <nil>
	// true true
	// covage billing_site: not found: status 404
}
