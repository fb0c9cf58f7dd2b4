// Package metricnames reads the names of the metrics that Prometheus
// collectors describe, without serving or observing them: the deploy
// tests check the example alerts, the dashboard and the README against
// the worker's real metrics (metricnames.Of(worker.RegisterMetrics)), so a
// metric added to the worker needs no list kept beside it.
package metricnames

import (
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// Of returns, sorted and once each, the names of the metrics described by
// the collectors register registers. The error says when
// prometheus.Desc's String no longer names the metric as descName reads it.
func Of(register func(prometheus.Registerer) error) ([]string, error) {
	rec := &describer{}
	if err := register(rec); err != nil {
		return nil, fmt.Errorf("list the metrics: %w", err)
	}
	names := make([]string, 0, len(rec.descs))
	for _, d := range rec.descs {
		n, err := descName(d)
		if err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// describer is a prometheus.Registerer that keeps what each collector
// registered with it describes, and serves nothing.
type describer struct{ descs []*prometheus.Desc }

func (r *describer) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc)
	go func() {
		c.Describe(ch)
		close(ch)
	}()
	for d := range ch {
		r.descs = append(r.descs, d)
	}
	return nil
}

func (r *describer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		_ = r.Register(c)
	}
}

func (r *describer) Unregister(prometheus.Collector) bool { return false }

// descName reads the metric's name in d: prometheus.Desc has no accessor,
// its String begins `Desc{fqName: "name", ` (client_golang 1.x);
// TestDescName fails when it changes.
func descName(d *prometheus.Desc) (string, error) {
	const prefix = `Desc{fqName: "`
	rest, ok := strings.CutPrefix(d.String(), prefix)
	name, _, closed := strings.Cut(rest, `"`)
	if !ok || !closed || name == "" {
		return "", fmt.Errorf("read a metric's name in %s: prometheus.Desc.String no longer begins %s: update metricnames.descName", d, prefix)
	}
	return name, nil
}
