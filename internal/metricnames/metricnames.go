// Package metricnames reads the names of the metrics that Prometheus
// collectors describe, without serving or observing them: the deploy
// tests check the example alerts, the dashboard and the README against
// the worker's real metrics (metricnames.Of(worker.RegisterMetrics)), so a
// metric added to the worker needs no list kept beside it.
package metricnames

import (
	"fmt"
	"regexp"
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

// LabelsOf returns the variable labels of each metric described by the
// collectors register registers (a metric described twice: the labels of
// both), so the deploy tests can check the labels the alerts and the
// dashboard select and group by. The error says when prometheus.Desc's
// String no longer lists them as descLabels reads them.
func LabelsOf(register func(prometheus.Registerer) error) (map[string][]string, error) {
	rec := &describer{}
	if err := register(rec); err != nil {
		return nil, fmt.Errorf("list the metrics: %w", err)
	}
	out := map[string][]string{}
	for _, d := range rec.descs {
		n, err := descName(d)
		if err != nil {
			return nil, err
		}
		labels, err := descLabels(d)
		if err != nil {
			return nil, err
		}
		out[n] = append(out[n], labels...)
		slices.Sort(out[n])
		out[n] = slices.Compact(out[n])
	}
	return out, nil
}

// descLabels reads the labels in d, its constant labels and then its
// variable ones: its String ends `constLabels: {k="v",...}, variableLabels:
// {a,b}}` (client_golang 1.x); TestDescLabels fails when it changes.
func descLabels(d *prometheus.Desc) ([]string, error) {
	const consts, vars, end = ", constLabels: {", "}, variableLabels: {", "}}"
	s := d.String()
	i, j := strings.LastIndex(s, consts), strings.LastIndex(s, vars)
	if i < 0 || j < i || !strings.HasSuffix(s, end) {
		return nil, fmt.Errorf("read a metric's labels in %s: prometheus.Desc.String no longer ends %s...%s...%s: update metricnames.descLabels", d, consts, vars, end)
	}
	var labels []string
	for _, m := range constLabel.FindAllStringSubmatch(s[i+len(consts):j], -1) {
		labels = append(labels, m[1])
	}
	if list := s[j+len(vars) : len(s)-len(end)]; list != "" {
		labels = append(labels, strings.Split(list, ",")...)
	}
	return labels, nil
}

// constLabel matches one constant label, name="value" (value quoted as Go
// quotes it), in a Desc's String.
var constLabel = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"`)

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
