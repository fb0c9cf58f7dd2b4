package worker

import (
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// MetricsServer serves a worker's /metrics and /healthz (Handler) on an
// address of its own, beside the worker.
type MetricsServer struct {
	srv *http.Server
	ln  net.Listener
}

// ServeMetrics listens on addr (e.g. ":9090", or "127.0.0.1:0" for a free
// port) and serves Handler(g, rdb) there until Close. A listen error is
// net.Listen's own, which names the address.
func ServeMetrics(addr string, g prometheus.Gatherer, rdb redis.UniversalClient) (*MetricsServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	m := &MetricsServer{srv: &http.Server{Handler: Handler(g, rdb), ReadHeaderTimeout: 5 * time.Second}, ln: ln}
	go func() { _ = m.srv.Serve(ln) }()
	return m, nil
}

// Addr is the address listened on.
func (m *MetricsServer) Addr() net.Addr { return m.ln.Addr() }

// Close stops serving at once.
func (m *MetricsServer) Close() error { return m.srv.Close() }
