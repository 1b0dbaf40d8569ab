package graphsim_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wa-onboarding/onboarding/internal/graph"
	"github.com/wa-onboarding/onboarding/internal/graphsim"
)

// BenchmarkReadNumber measures one status read through the typed client and
// the simulator against the same HTTP round trip to a handler that answers
// a fixed body: the ratio is what the client and the simulator add to
// loopback HTTP, which bounds the simulator's use in load runs.
func BenchmarkReadNumber(b *testing.B) {
	fixed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"106540352242923","name_status":"APPROVED","code_verification_status":"VERIFIED"}`)
	}))
	defer fixed.Close()
	sim := graphsim.New(graphsim.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	sim.CreateWABA("100000000000001")
	id, err := sim.SeedNumber("100000000000001", "1", "5551234567", graphsim.Verified())
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()

	b.Run("baseline-http-fixed-body", func(b *testing.B) {
		b.ReportAllocs()
		c := fixed.Client()
		for b.Loop() {
			resp, err := c.Get(fixed.URL + "/v21.0/" + id + "?fields=id,name_status,code_verification_status")
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	b.Run("client-and-simulator", func(b *testing.B) {
		b.ReportAllocs()
		g, err := graph.New(graphsim.DefaultToken, graph.WithBaseURL(srv.URL+"/v21.0"), graph.WithHTTPClient(srv.Client()))
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := g.GetPhoneNumber(context.Background(), id, "id", "name_status", "code_verification_status"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
