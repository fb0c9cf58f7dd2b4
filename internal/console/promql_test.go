package console_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/fixture"
)

// dashboardExpr returns the first query of the dashboard panel titled
// title (deploy/grafana/tidings-dashboard.json), with every template
// variable selecting all its values (".*", the dashboard's allValue).
func dashboardExpr(t *testing.T, title string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(consoletest.RepoRoot(t), "deploy", "grafana", "tidings-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("tidings-dashboard.json: %v", err)
	}
	for _, p := range d.Panels {
		if p.Title == title && len(p.Targets) > 0 {
			return strings.NewReplacer("${campaign}", ".*", "$campaign", ".*", "${environment}", ".*", "$environment", ".*").Replace(p.Targets[0].Expr)
		}
	}
	t.Fatalf("tidings-dashboard.json has no panel %q with a query", title)
	return ""
}

// promQL evaluates expr with Prometheus's own engine (promtool test
// rules) over the tidings_ samples of a /metrics scrape (held for 5
// minutes) and fails the test unless it yields exactly want (series in
// promtool's notation, e.g. `{campaign="x"}`, to its value).
func promQL(t *testing.T, scrape, expr string, want map[string]float64) {
	t.Helper()
	bin := fixture.Tool(t, "promtool", "prometheus")
	var in strings.Builder
	for _, l := range strings.Split(scrape, "\n") {
		series, value, ok := strings.Cut(l, " ")
		if !ok || !strings.HasPrefix(series, "tidings_") {
			continue
		}
		fmt.Fprintf(&in, "      - series: %q\n        values: \"%sx5\"\n", series, value)
	}
	var exp strings.Builder
	for labels, v := range want {
		fmt.Fprintf(&exp, "          - labels: %q\n            value: %v\n", labels, v)
	}
	if len(want) == 0 {
		exp.WriteString("          []\n")
	}
	file := filepath.Join(t.TempDir(), "promql_test.yml")
	test := fmt.Sprintf("evaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n%s    promql_expr_test:\n      - expr: %q\n        eval_time: 2m\n        exp_samples:\n%s",
		in.String(), expr, exp.String())
	if err := os.WriteFile(file, []byte(test), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.CommandContext(t.Context(), bin, "test", "rules", file).CombinedOutput(); err != nil {
		t.Errorf("PromQL %s over the console's /metrics: %v\n%s", expr, err, out)
	}
}
