package http

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/node"
)

func (s *Server) registerHealth() {
	s.handle("GET /healthz", access.ActionPublic, nil, s.healthz)
	s.handle("GET /readyz", access.ActionPublic, nil, s.readyz)
	s.handle("GET /metrics", access.ActionPublic, nil, s.metricsHandler)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request, rq *request) error {
	w.Header().Set("Content-Type", "text/plain")
	_, err := w.Write([]byte("ok\n"))
	return err
}

// readyz: the log is reachable and the projections follow it.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request, rq *request) error {
	w.Header().Set("Content-Type", "text/plain")
	if err := s.node.Err(); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("not ready: projections stopped following the log\n"))
		return nil
	}
	if _, err := s.node.VerifyStatus(); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("not ready: " + vigil.ErrorMessage(err) + "\n"))
		return nil
	}
	if !s.node.NC.IsConnected() {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("not ready: no connection to the event log\n"))
		return nil
	}
	_, err := w.Write([]byte("ready\n"))
	return err
}

func (s *Server) metricsHandler(w http.ResponseWriter, r *http.Request, rq *request) error {
	s.metrics.handler.ServeHTTP(w, r)
	return nil
}

type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	denials  prometheus.Counter
	handler  http.Handler
}

func newMetrics(n *node.Node) *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_http_requests_total",
			Help: "HTTP requests by route and status."}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "vigil_http_request_seconds",
			Help: "HTTP request latency by route.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"route"}),
		denials: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_access_denials_total",
			Help: "Requests refused by the permission matrix or CSRF checks."}),
	}
	reg.MustRegister(m.requests, m.latency, m.denials,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newAlertCollector(n),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "vigil_log_entries", Help: "Entries in this node's Merkle tree."},
			func() float64 {
				if n.Tree == nil {
					return 0
				}
				return float64(n.Tree.Size())
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "vigil_projection_applied", Help: "Last log entry applied to the projections."},
			func() float64 { return float64(n.Applied()) }),
	)
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return m
}

func (m *metrics) observe(route string, code int, d time.Duration) {
	if code == 0 {
		code = 200
	}
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}
