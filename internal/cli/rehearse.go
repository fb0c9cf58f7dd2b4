package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/demo"
	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/plan"
	"github.com/tidings-mail/tidings/internal/redisserver"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/worker"
)

func (a *app) cmdRehearse() *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "rehearse CAMPAIGN",
		Short: "Run the whole campaign on an embedded Redis and SMTP server; nothing leaves the machine",
		Long: `rehearse runs the whole campaign — plan, staging, canary, batches, worker,
report — in one process on an embedded Redis-compatible server and an embedded
SMTP server that captures every message. Nothing leaves the machine; no
environment, Redis or SMTP server is needed.

It writes, under --out: mail/<lang>/*.eml (every captured message, by the
recipient's matched language), preview/index.html (the gallery),
report.csv and report.json (every recipient's outcome) and summary.txt.

To finish quickly, a rehearsal ignores the campaign's rate and batch
intervals and approves the canary itself; refused and invalid rows are
recorded as such (as send --skip-refused --skip-invalid would). It says all
of this in its output. Exit 1 if anything was refused, invalid or failed.`,
		Example: `  tidings rehearse campaigns/altea.yaml
  tidings rehearse campaigns/altea.yaml --out /tmp/rehearsal`,
		Args: argsExact(1, "one campaign file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := a.loadCampaign(args[0])
			if err != nil {
				return err
			}
			if out == "" {
				out = filepath.Join("tidings-out", l.camp.Name, "rehearsal")
			}
			res, err := a.rehearse(cmd.Context(), l, out)
			if err != nil {
				return err
			}
			res.print(a)
			if res.problems() {
				return problems("rehearsal found refused, invalid or failed recipients")
			}
			return nil
		},
	}
	c.Flags().StringVar(&out, "out", "", "output directory (default tidings-out/CAMPAIGN-NAME/rehearsal)")
	return c
}

func (a *app) cmdDemo() *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "demo",
		Short: "Rehearse the bundled sample campaign and show where to look (start here)",
		Long: `demo writes the bundled sample campaign (a migration notice in 9 languages,
one deliberately incomplete so its recipients are refused; names with emoji,
CJK, right-to-left and combining characters; one invalid row) and rehearses it
end to end on an embedded Redis and an embedded capturing SMTP server. It
needs no Redis, no SMTP server and no network. It ends with a short story of
what happened and where to look: the preview gallery, the captured mails and
the report.`,
		Example: `  go run ./cmd/tidings demo
  tidings demo --out /tmp/tidings-demo`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				out = filepath.Join("tidings-out", "demo")
			}
			if err := clearDemoDir(out); err != nil {
				return err
			}
			file, err := demo.Write(filepath.Join(out, "campaign"))
			if err != nil {
				return configError(err)
			}
			l, err := a.loadCampaign(file)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "tidings demo: rehearsing the sample campaign %q from %s\n\n", l.camp.Name, absPath(file))
			res, err := a.rehearse(cmd.Context(), l, out)
			if err != nil {
				return err
			}
			res.print(a)
			fmt.Fprintf(a.stdout, "\nThis was a demo: refusals above are deliberate. Edit %s and run\n  go run ./cmd/tidings rehearse %s\nto try your own changes.\n", absPath(file), file)
			return nil
		},
	}
	c.Flags().StringVar(&out, "out", "", "output directory (default tidings-out/demo)")
	return c
}

// clearDemoDir empties out for a new demo run: only a directory that does
// not exist, is empty, or holds an earlier demo (its campaign file) is
// removed, so that --out pointing at anything else loses nothing.
func clearDemoDir(out string) error {
	entries, err := os.ReadDir(out)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(entries) == 0) {
		return nil
	}
	if err != nil {
		return configError(fmt.Errorf("demo output %s: %w", out, err))
	}
	if _, err := os.Stat(filepath.Join(out, "campaign", demo.CampaignFile)); err != nil {
		return configError(fmt.Errorf("demo output %s is not empty and holds no earlier demo: choose an empty or new directory with --out (nothing was removed)", out))
	}
	if err := os.RemoveAll(out); err != nil {
		return configError(fmt.Errorf("clear the earlier demo in %s: %w", out, err))
	}
	return nil
}

// rehearsal is what a rehearsal produced.
type rehearsal struct {
	name      string
	out       string
	plan      *plan.Summary
	status    *store.Status
	mails     map[string]int // lang -> captured messages
	captured  int
	canary    int
	gallery   string
	reportCSV string
	elapsed   time.Duration
	notes     []string
	refusals  map[string]int // reason -> rows
}

func (r *rehearsal) problems() bool {
	return r.plan.Refused+r.plan.Invalid > 0 || r.status.Counts[store.OutcomeFailed] > 0 || r.status.Counts[store.OutcomeInDoubt] > 0
}

// rehearse runs campaign l end to end on embedded servers, writing into out.
func (a *app) rehearse(ctx context.Context, l *loaded, out string) (*rehearsal, error) {
	start := time.Now()
	res := &rehearsal{name: l.camp.Name, out: out, mails: map[string]int{}, refusals: map[string]int{}}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, configError(fmt.Errorf("create %s: %w", out, err))
	}
	// A rehearsal finishes quickly: no rate, no intervals, canary approved
	// by the rehearsal itself.
	if l.camp.Batches.Interval > 0 {
		res.notes = append(res.notes, fmt.Sprintf("batch interval %s skipped", l.camp.Batches.Interval))
		l.camp.Batches.Interval = 0
	}
	if !l.camp.Rate.Unlimited() {
		res.notes = append(res.notes, fmt.Sprintf("rate %s ignored", l.camp.Rate))
		l.camp.Rate = campaign.Rate{}
	}

	planned, err := launch.Plan(ctx, a.launchInput(l, nil, nil))
	if err != nil {
		return nil, classify(err)
	}
	sum := planned.Summary
	res.plan = sum
	for _, r := range sum.Rejects {
		res.refusals[r.Outcome+": "+r.Reason]++
	}

	srv, err := redisserver.Start(ctx)
	if err != nil {
		return nil, infraError(err)
	}
	defer srv.Close()
	// Messages stream to disk as they are accepted (a rehearsal of a million
	// recipients must not hold them in memory); they are sorted into
	// mail/<lang>/ afterwards.
	incoming := filepath.Join(out, "mail", ".incoming")
	if err := os.RemoveAll(filepath.Join(out, "mail")); err != nil {
		return nil, configError(fmt.Errorf("clear %s: %w", filepath.Join(out, "mail"), err))
	}
	if err := os.MkdirAll(incoming, 0o755); err != nil {
		return nil, configError(fmt.Errorf("create %s: %w", incoming, err))
	}
	capture, err := smtpcapture.Start(ctx, smtpcapture.Config{Dir: incoming, DiscardData: true})
	if err != nil {
		return nil, infraError(err)
	}
	defer capture.Close()
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()

	s := store.New(rdb)
	// Nothing to send: stage the rejects anyway, so that the report is
	// complete.
	opts := launch.Options{SkipRefused: true, SkipInvalid: true, Start: sum.Accepted > 0, AllowEmpty: true}
	if _, err := planned.Stage(ctx, s, opts); err != nil {
		return nil, storeError(err)
	}
	if sum.Accepted > 0 {
		if err := a.runRehearsalWorker(ctx, l, rdb, capture, res); err != nil {
			return nil, err
		}
	}
	st, err := s.Status(ctx, l.camp.Name)
	if err != nil {
		return nil, storeError(err)
	}
	res.status = st

	// Captured mail by language, via the report's recipient -> language.
	langOf := map[string]string{}
	if err := s.Report(ctx, l.camp.Name, func(r store.Row) error {
		if r.Outcome == store.OutcomeSent {
			langOf[strings.ToLower(r.Email)] = r.Lang
		}
		return nil
	}); err != nil {
		return nil, storeError(err)
	}
	if err := res.sortMail(capture.Messages(), incoming, filepath.Join(out, "mail"), langOf); err != nil {
		return nil, err
	}

	// Reports and gallery.
	res.reportCSV = filepath.Join(out, "report.csv")
	for _, f := range []struct{ path, format string }{{res.reportCSV, "csv"}, {filepath.Join(out, "report.json"), "json"}} {
		fh, err := os.Create(f.path)
		if err != nil {
			return nil, configError(err)
		}
		err = writeReport(ctx, s, l.camp.Name, fh, f.format, "")
		fh.Close()
		if err != nil {
			return nil, err
		}
	}
	sf, err := os.Create(filepath.Join(out, "summary.txt"))
	if err != nil {
		return nil, configError(err)
	}
	writeStatus(sf, st)
	sf.Close()
	pr, err := a.runPreview(ctx, l, filepath.Join(out, "preview"))
	if err != nil {
		return nil, err
	}
	res.gallery = pr.Index
	res.elapsed = time.Since(start)
	return res, nil
}

// runRehearsalWorker runs one in-process worker against the embedded
// servers until the campaign is done, approving the canary itself.
func (a *app) runRehearsalWorker(ctx context.Context, l *loaded, rdb *redis.Client, capture *smtpcapture.Server, res *rehearsal) error {
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	w, err := worker.New(worker.Config{
		Redis: rdb, Concurrency: 4, Env: "rehearsal", Logger: a.quietLogger(),
		SMTP: smtpConfigFor(capture.Host(), capture.Port()),
	})
	if err != nil {
		return configError(err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	s := store.New(rdb)
	who, host := actorName()
	actor := store.Actor{Who: who, Host: host, Env: "rehearsal"}
	deadline := time.Now().Add(30 * time.Minute)
	for {
		st, err := s.Status(ctx, l.camp.Name)
		if err != nil {
			return storeError(err)
		}
		switch st.State {
		case store.StateAwaitingApproval:
			res.canary = int(st.Counts[store.OutcomeSent])
			if err := s.Approve(ctx, l.camp.Name, actor, "rehearsal: approved automatically after the canary"); err != nil {
				return storeError(err)
			}
			res.notes = append(res.notes, fmt.Sprintf("canary of %d message(s) approved automatically", res.canary))
		case store.StatePaused:
			stop()
			<-done
			return problemsErr(fmt.Errorf("the rehearsal paused itself: %s", st.Reason))
		case store.StateDone, store.StateCancelled:
			stop()
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				return classify(err)
			}
			return nil
		}
		if time.Now().After(deadline) {
			stop()
			<-done
			return problemsErr(errors.New("the rehearsal did not finish within 30 minutes"))
		}
		select {
		case err := <-done:
			return fmt.Errorf("rehearsal worker stopped early: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// sortMail moves the files of the captured messages from incoming into
// dir/<lang>/, by their envelope recipient's matched language.
func (r *rehearsal) sortMail(msgs []smtpcapture.Message, incoming, dir string, langOf map[string]string) error {
	for _, m := range msgs {
		lang := langOf[strings.ToLower(m.To[0])]
		if lang == "" {
			lang = "unknown"
		}
		if err := os.MkdirAll(filepath.Join(dir, lang), 0o755); err != nil {
			return configError(err)
		}
		name := smtpcapture.FileName(m)
		if err := os.Rename(filepath.Join(incoming, name), filepath.Join(dir, lang, name)); err != nil {
			return configError(fmt.Errorf("sort captured mail: %w", err))
		}
		r.mails[lang]++
		r.captured++
	}
	if err := os.Remove(incoming); err != nil {
		return configError(fmt.Errorf("sort captured mail: %w", err))
	}
	return nil
}

func (r *rehearsal) print(a *app) {
	w := a.stdout
	p := r.plan
	fmt.Fprintf(w, "Rehearsal of %q finished in %s.\n", r.name, r.elapsed.Round(time.Millisecond))
	if len(r.notes) > 0 {
		fmt.Fprintf(w, "  (rehearsal only: %s)\n", strings.Join(r.notes, "; "))
	}
	fmt.Fprintf(w, "\n%d recipient rows: %d sent, %d refused, %d invalid", p.Rows, r.status.Counts[store.OutcomeSent], p.Refused, p.Invalid)
	for _, o := range []string{store.OutcomeFailed, store.OutcomeInDoubt, store.OutcomeCancelled, store.OutcomePending} {
		if n := r.status.Counts[o]; n > 0 {
			fmt.Fprintf(w, ", %d %s", n, o)
		}
	}
	fmt.Fprintln(w, ".")
	if r.canary > 0 {
		fmt.Fprintf(w, "The canary batch sent %d message(s), one per covered language, before the rest.\n", r.canary)
	}
	var langs []string
	for l := range r.mails {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	var parts []string
	for _, l := range langs {
		parts = append(parts, fmt.Sprintf("%s %d", l, r.mails[l]))
	}
	fmt.Fprintf(w, "Captured %d messages by language: %s.\n", r.captured, strings.Join(parts, ", "))
	if len(r.refusals) > 0 {
		fmt.Fprintln(w, "\nNot sent, and why (nobody receives a message in a language that is not theirs):")
		var reasons []string
		for k := range r.refusals {
			reasons = append(reasons, k)
		}
		sort.Strings(reasons)
		for _, k := range reasons {
			fmt.Fprintf(w, "  %3d × %s\n", r.refusals[k], k)
		}
	}
	fmt.Fprintf(w, "\nWhere to look:\n")
	fmt.Fprintf(w, "  preview gallery (every language side by side): %s\n", absPath(r.gallery))
	fmt.Fprintf(w, "  captured mails (.eml, by language):            %s\n", absPath(filepath.Join(r.out, "mail")))
	fmt.Fprintf(w, "  report (every recipient's outcome):            %s\n", absPath(r.reportCSV))
	fmt.Fprintf(w, "  summary (as tidings status shows it):          %s\n", absPath(filepath.Join(r.out, "summary.txt")))
}
