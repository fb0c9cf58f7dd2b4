package console

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v4"

	"github.com/tidings-mail/tidings/internal/metricnames"
	"github.com/tidings-mail/tidings/worker"
)

var metricName = regexp.MustCompile(`tidings_[a-z_]+`)

// knownMetrics are the names the console and the workers serve: the
// worker's read from the collectors it registers (metricnames.Of(worker.RegisterMetrics)).
func knownMetrics(t *testing.T) map[string]bool {
	t.Helper()
	known := map[string]bool{}
	fq := regexp.MustCompile(`fqName: "([^"]+)"`)
	for _, d := range descs {
		if m := fq.FindStringSubmatch(d.String()); m != nil {
			known[m[1]] = true
		}
	}
	names, err := metricnames.Of(worker.RegisterMetrics)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		known[n] = true
	}
	return known
}

// knownLabels are the labels of each metric the console and the workers
// serve, read from their collectors, plus those every series has
// (environment, and the scrape's instance and job).
func knownLabels(t *testing.T) map[string][]string {
	t.Helper()
	labels, err := metricnames.LabelsOf(func(reg prometheus.Registerer) error {
		if err := worker.RegisterMetrics(reg); err != nil {
			return err
		}
		return reg.Register(&collector{})
	})
	if err != nil {
		t.Fatal(err)
	}
	for n := range labels {
		labels[n] = append(labels[n], "environment", "instance", "job")
	}
	return labels
}

// baseName is the metric a series name belongs to: a histogram's
// _bucket, _sum and _count are its own.
func baseName(n string) string {
	return strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(n, "_bucket"), "_sum"), "_count")
}

// labelValues matches a Grafana label_values(METRIC{...}, LABEL) query.
var labelValues = regexp.MustCompile(`^label_values\((tidings_[a-z_]+)(?:\{[^}]*\})?,\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$`)

// matcher matches a label matcher's label name inside a selector's braces.
var matcher = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)`)

// checkNames fails for every tidings_ metric in expr that nobody serves,
// every label its selectors match that the metric does not have, and every
// label of a by (...) or on (...) clause that none of expr's metrics has
// (le only on a histogram's _bucket): a misspelt label matches no series,
// and the alert never fires, the panel stays empty.
func checkNames(t *testing.T, where, expr string, known map[string]bool, labels map[string][]string) {
	t.Helper()
	some := map[string]bool{}
	for _, m := range selector.FindAllStringSubmatch(expr, -1) {
		n := m[0][:len(m[0])-len(m[1])]
		base := baseName(n)
		if !known[base] {
			t.Errorf("%s: %s is not a metric tidings serves", where, n)
			continue
		}
		has := labels[base]
		if n != base && strings.HasSuffix(n, "_bucket") {
			has = append(slices.Clone(has), "le")
		}
		for _, l := range has {
			some[l] = true
		}
		for _, lm := range matcher.FindAllStringSubmatch(m[1], -1) {
			if !slices.Contains(has, lm[1]) {
				t.Errorf("%s: %s has no label %s (its labels: %v)", where, n, lm[1], has)
			}
		}
	}
	for _, g := range grouping.FindAllStringSubmatch(expr, -1) {
		for _, l := range strings.Split(g[2], ",") {
			if l = strings.TrimSpace(l); l != "" && !some[l] {
				t.Errorf("%s: %q: no metric of the expression has the label %s", where, g[0], l)
			}
		}
	}
}

// grouping matches PromQL's by (...) and on (...) clauses.
var grouping = regexp.MustCompile(`\b(by|on)\s*\(([^)]*)\)`)

// selector matches a tidings_ metric with its label matchers, if any.
var selector = regexp.MustCompile(`tidings_[a-z_]+(\{[^}]*\})?`)

// checkEnvironment fails for every tidings_ metric in expr that is not
// restricted to the dashboard's environment variable.
func checkEnvironment(t *testing.T, where, expr string) {
	t.Helper()
	for _, m := range selector.FindAllStringSubmatch(expr, -1) {
		if !strings.Contains(m[1], `environment=~"$environment"`) {
			t.Errorf("%s: %s is not restricted to environment=~\"$environment\"", where, m[0])
		}
	}
}

func readRepo(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPrometheusAlerts parses deploy/prometheus/alerts.yml (YAML, the rule
// file's shape) and checks every metric its rules name.
func TestPrometheusAlerts(t *testing.T) {
	t.Parallel()
	var f struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(readRepo(t, "deploy/prometheus/alerts.yml"))))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	known, labels := knownMetrics(t), knownLabels(t)
	n := 0
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			n++
			if r.Alert == "" || r.Expr == "" || r.Annotations["summary"] == "" || r.Labels["severity"] == "" {
				t.Errorf("rule %+v: want alert, expr, a severity label and a summary", r)
			}
			checkNames(t, "alerts.yml "+r.Alert, r.Expr, known, labels)
			for _, m := range grouping.FindAllStringSubmatch(r.Expr, -1) {
				if !strings.Contains(m[2], "environment") {
					t.Errorf("alerts.yml %s: %q does not keep the environment: campaigns of staging and production (one Prometheus) would be summed or matched together", r.Alert, m[0])
				}
			}
		}
	}
	if n < 4 {
		t.Errorf("alerts.yml has %d rules", n)
	}
}

// TestGrafanaDashboard decodes deploy/grafana/tidings-dashboard.json and
// checks every panel's queries.
func TestGrafanaDashboard(t *testing.T) {
	t.Parallel()
	var d struct {
		Title      string `json:"title"`
		UID        string `json:"uid"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			Title   string             `json:"title"`
			Type    string             `json:"type"`
			GridPos struct{ W, H int } `json:"gridPos"`
			Targets []struct {
				Expr       string `json:"expr"`
				Datasource struct {
					UID string `json:"uid"`
				} `json:"datasource"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(readRepo(t, "deploy/grafana/tidings-dashboard.json"), &d); err != nil {
		t.Fatalf("tidings-dashboard.json: %v", err)
	}
	if d.Title == "" || d.UID == "" || len(d.Panels) < 6 {
		t.Fatalf("dashboard %q (uid %q) with %d panels", d.Title, d.UID, len(d.Panels))
	}
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		q, _ := v.Query.(map[string]any) // a query variable's {"query": ...}
		vars[v.Name], _ = q["query"].(string)
	}
	if _, ok := vars["environment"]; !ok {
		t.Errorf("the dashboard has no environment variable (variables %v): one Prometheus scraping staging and production shows both as one", vars)
	}
	checkEnvironment(t, "dashboard variable campaign", vars["campaign"])
	known, labels := knownMetrics(t), knownLabels(t)
	for name, q := range vars {
		checkNames(t, "dashboard variable "+name, q, known, labels)
		// label_values(METRIC, LABEL): the label whose values it lists.
		if m := labelValues.FindStringSubmatch(q); m != nil && !slices.Contains(labels[m[1]], m[2]) {
			t.Errorf("dashboard variable %s: %q: %s has no label %s", name, q, m[1], m[2])
		}
	}
	for _, p := range d.Panels {
		if p.Type == "" || p.GridPos.W == 0 || p.GridPos.H == 0 || len(p.Targets) == 0 {
			t.Errorf("panel %q: want a type, a size and queries", p.Title)
		}
		for _, q := range p.Targets {
			if q.Expr == "" || q.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q: query %q on datasource %q", p.Title, q.Expr, q.Datasource.UID)
			}
			checkNames(t, "dashboard "+p.Title, q.Expr, known, labels)
			checkEnvironment(t, "dashboard "+p.Title, q.Expr)
		}
	}
}

// TestReadmeNamesWorkerMetrics: the README's "Metrics and notifications"
// names every metric the worker serves (metricnames.Of(worker.RegisterMetrics)), so a metric
// added to the worker is documented for the operators who scrape it.
func TestReadmeNamesWorkerMetrics(t *testing.T) {
	t.Parallel()
	readme := string(readRepo(t, "README.md"))
	const heading = "\n## Metrics and notifications\n"
	_, section, ok := strings.Cut(readme, heading)
	if !ok {
		t.Fatalf("README.md has no section %q", strings.TrimSpace(heading))
	}
	section, _, _ = strings.Cut(section, "\n## ")
	names, err := metricnames.Of(worker.RegisterMetrics)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !strings.Contains(section, "`"+n+"`") && !strings.Contains(section, "`"+n+"{") {
			t.Errorf("README.md, Metrics and notifications: the worker serves %s and the section does not name it (`%s`): say what it counts", n, n)
		}
	}
}
