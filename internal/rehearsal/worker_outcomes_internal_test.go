package rehearsal

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/demo"
	"github.com/tidings-mail/tidings/internal/plan"
	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestRehearseCountsTheWorkersRefusalsAndInvalidRows: rows the plan
// accepted but the worker refuses or cannot render at send time are
// problems of the rehearsal: its summary counts them refused and invalid
// ("3 recipient rows: 1 sent, 1 refused, 1 invalid."), says why they were
// not sent, and Problems (rehearse's exit 1) is true. No input is known
// where plan and worker disagree, so the rehearsal's own staging is
// replaced by one that stages three rows directly, as the plan accepted
// them: one sent; one whose posts count is "lots" (the template cannot be
// rendered with it); one approved as fr whose locale de now resolves to
// de (the locale rule at send time). Everything else is the rehearsal's:
// embedded Redis, a real worker, the capturing SMTP server, the report and
// the summary.
func TestRehearseCountsTheWorkersRefusalsAndInvalidRows(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b, err := demo.Load(filepath.Join(dir, "demo"))
	if err != nil {
		t.Fatal(err)
	}
	camp := *b.Campaign
	camp.Rate, camp.Batches.Interval = campaign.Rate{}, 0
	b.Campaign = &camp
	stage := func(ctx context.Context, s *store.Store) (bool, error) {
		snap, err := render.Snapshot(b.Templates, b.Locales, camp.Template)
		if err != nil {
			return false, err
		}
		def, err := camp.Definition()
		if err != nil {
			return false, err
		}
		sg, err := s.NewStager(ctx, store.StageConfig{Campaign: camp.Name, Definition: def, Hash: b.Engine.Hash(), Snapshot: snap,
			Env: Env, Who: "test", Host: "here", Columns: []string{"posts"}})
		if err != nil {
			return false, err
		}
		for i, r := range []struct{ email, locale, lang, posts string }{
			{"ada@altea.example", "de", "de", "2"},
			{"bob@altea.example", "fr", "fr", "lots"},
			{"cy@altea.example", "de", "fr", "1"},
		} {
			m, err := b.Engine.Resolve(r.locale)
			if err != nil {
				return false, err
			}
			rc := store.Recipient{Line: i + 2, ID: r.email, Email: r.email, Name: "N", Locale: r.locale, Lang: r.lang, Via: m.Via,
				Fields: map[string]string{"posts": r.posts}}
			if err := sg.Add(ctx, rc, 0, false); err != nil {
				return false, err
			}
		}
		_, err = sg.Finish(ctx, true)
		return true, err
	}
	res := newResult(camp.Name, filepath.Join(dir, "out"))
	res.Plan = &plan.Summary{Rows: 3, Accepted: 3}
	cfg := Config{Bundle: b, Out: res.Out, Logger: slog.New(slog.DiscardHandler), Who: "test", Host: "here", Timeout: 2 * time.Minute}
	if err := res.rehearse(t.Context(), cfg, b, stage); err != nil {
		t.Fatal(err)
	}
	c := res.Status.Counts
	if c[store.OutcomeSent] != 1 || c[store.OutcomeRefused] != 1 || c[store.OutcomeInvalid] != 1 || res.Captured != 1 || res.Mails["de"] != 1 {
		t.Fatalf("the worker did not send one, refuse one and find one invalid: counts %v, captured %v", c, res.Mails)
	}
	csv, err := os.ReadFile(res.ReportCSV)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{",fr,invalid,render-error,", ",fr,refused,lang-changed,"} {
		if !strings.Contains(string(csv), want) {
			t.Errorf("report.csv lacks %q:\n%s", want, csv)
		}
	}

	var text strings.Builder
	res.WriteText(&text)
	for _, want := range []string{
		"3 recipient rows: 1 sent, 1 refused, 1 invalid.",
		"Not sent, and why",
		`1 × invalid by the worker at send time: the template cannot be rendered with this row: `,
		`1 × refused by the worker at send time: locale rule at send time: "de" now resolves to de, but fr was approved at staging`,
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the rehearsal's story lacks %q\n%s", want, text.String())
		}
	}
	if !res.Problems() {
		t.Errorf("the worker refused a row and found one invalid, yet the rehearsal reports no problem (exit 0)\n%s", text.String())
	}
}
