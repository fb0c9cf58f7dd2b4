package worker_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/worker"
)

func TestServeMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	up := prometheus.NewGauge(prometheus.GaugeOpts{Name: "tidings_serve_test_up", Help: "A gauge for this test."})
	up.Set(1)
	reg.MustRegister(up)
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { down.Close() })
	tests := []struct {
		name       string
		rdb        redis.UniversalClient
		path       string
		wantStatus int
		wantBody   string
	}{
		{"metrics", redistest.Start(t).Client(), "/metrics", http.StatusOK, "tidings_serve_test_up 1"},
		{"healthz", redistest.Start(t).Client(), "/healthz", http.StatusOK, "ok"},
		{"healthz without redis", down, "/healthz", http.StatusServiceUnavailable, "redis unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := worker.ServeMetrics("127.0.0.1:0", reg, tt.rdb, nil)
			if err != nil {
				t.Fatal(err)
			}
			url := "http://" + m.Addr().String() + tt.path
			status, body := httpGet(t, url)
			if status != tt.wantStatus || !strings.Contains(body, tt.wantBody) {
				t.Errorf("GET %s: %d %q, want %d with %q", tt.path, status, body, tt.wantStatus, tt.wantBody)
			}
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			// A fresh connection, and this test's own gauge: a server of
			// another test may take the freed port at once, and answer.
			after := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			if resp, err := after.Get("http://" + m.Addr().String() + "/metrics"); err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if strings.Contains(string(b), "tidings_serve_test_up") {
					t.Errorf("%s answered after Close", m.Addr())
				}
			}
		})
	}
	busy, err := worker.ServeMetrics("127.0.0.1:0", reg, down, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if _, err := worker.ServeMetrics(busy.Addr().String(), reg, down, nil); err == nil || !strings.Contains(err.Error(), busy.Addr().String()) {
		t.Errorf("ServeMetrics on a busy address: %v, want an error naming it", err)
	}
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}
