package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/plan"
	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/internal/store"
)

type sendOptions struct {
	env            string
	skipRefused    bool
	skipInvalid    bool
	rejects        string
	confirm        string
	dryRun         bool
	resumeExisting bool
	show           int
}

func (a *app) cmdSend() *cobra.Command {
	var o sendOptions
	c := &cobra.Command{
		Use:   "send CAMPAIGN --env ENV",
		Short: "Plan, then stage the campaign in Redis and start it",
		Long: `send runs the plan, then stages the campaign in the environment's Redis (its
definition, the approved template and catalog content and its hash, every
recipient in batches) and starts it; workers (tidings worker) pick it up.

It refuses to start when any row is refused or invalid, unless
--skip-refused / --skip-invalid: those rows are written to a rejects CSV and
recorded in the report. It refuses when the campaign file is pinned to another
environment. In a production environment you must type the campaign name (or
pass --confirm NAME when not on a terminal). --dry-run renders every message
locally and delivers nothing; Redis is not touched.

Re-running send for a campaign that exists is refused unless
--resume-existing, which never re-sends anyone already sent.`,
		Example: `  tidings send campaigns/altea.yaml --env staging
  tidings send campaigns/altea.yaml --env production --confirm altea-reregistration
  tidings send campaigns/altea.yaml --env production --skip-refused --rejects refused.csv
  tidings send campaigns/altea.yaml --env staging --dry-run`,
		Args: argsExact(1, "one campaign file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runSend(cmd.Context(), args[0], o)
		},
	}
	c.Flags().StringVar(&o.env, "env", "", "environment to send in (required; must match the campaign file's environment)")
	c.Flags().BoolVar(&o.skipRefused, "skip-refused", false, "send to the others when some rows are refused (they are recorded as refused)")
	c.Flags().BoolVar(&o.skipInvalid, "skip-invalid", false, "send to the others when some rows are invalid (they are recorded as invalid)")
	c.Flags().StringVar(&o.rejects, "rejects", "", "where to write refused and invalid rows (default CAMPAIGN-NAME.rejects.csv)")
	c.Flags().StringVar(&o.confirm, "confirm", "", "the campaign name, to confirm a production send without a terminal")
	c.Flags().BoolVar(&o.dryRun, "dry-run", false, "render every message and deliver nothing; touches no queue")
	c.Flags().BoolVar(&o.resumeExisting, "resume-existing", false, "re-stage a campaign that exists; never re-sends anyone already sent")
	c.Flags().IntVar(&o.show, "show", 20, "how many refused/invalid rows to show on screen")
	return c
}

func (a *app) runSend(ctx context.Context, file string, o sendOptions) error {
	l, err := a.loadCampaign(file)
	if err != nil {
		return err
	}
	env, err := a.loadEnv(o.env)
	if err != nil {
		return err
	}
	if l.camp.Environment != env.Name {
		return configError(fmt.Errorf("%s is pinned to environment %q but --env is %q: send it in %q, or change 'environment:' in the campaign file after review",
			file, l.camp.Environment, env.Name, l.camp.Environment))
	}
	sum, err := a.runPlan(ctx, l, env, nil)
	if err != nil {
		return err
	}
	sum.WriteText(a.stdout, o.show)
	if sum.Refused+sum.Invalid > 0 {
		rejects := o.rejects
		if rejects == "" {
			rejects = l.camp.Name + ".rejects.csv"
		}
		if err := writeRejects(sum, rejects); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "\nRefused and invalid rows written to %s\n", absPath(rejects))
		var missing []string
		if sum.Refused > 0 && !o.skipRefused {
			missing = append(missing, fmt.Sprintf("%d refused (pass --skip-refused to send to the others)", sum.Refused))
		}
		if sum.Invalid > 0 && !o.skipInvalid {
			missing = append(missing, fmt.Sprintf("%d invalid (fix them, or pass --skip-invalid)", sum.Invalid))
		}
		if len(missing) > 0 {
			fmt.Fprintf(a.stderr, "tidings: not sending: %s\n", strings.Join(missing, "; "))
			return problems("not sending")
		}
	}
	if sum.Accepted == 0 {
		return problemsErr(errors.New("no recipient to send to"))
	}
	if o.dryRun {
		return a.dryRun(ctx, l, env, sum)
	}
	if env.Production {
		if err := a.confirmProduction(l.camp.Name, sum.Accepted, o.confirm); err != nil {
			return err
		}
	}
	rdb, err := a.redis(ctx, env)
	if err != nil {
		return err
	}
	defer rdb.Close()
	st, err := a.stage(ctx, l, env, rdb, sum, stageOptions{resumeExisting: o.resumeExisting, start: true})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "\nStaged %d recipients of %q in %d batches (%d chunks) in environment %s.\n", st.Staged, l.camp.Name, st.Batches, st.Chunks, env.Name)
	if st.Kept > 0 {
		fmt.Fprintf(a.stdout, "%d recipients keep their earlier outcome (sent, in-doubt or failed) and will not be sent again.\n", st.Kept)
	}
	fmt.Fprintf(a.stdout, "The campaign is running: workers pick it up (start them with: tidings worker --env %s).\n", env.Name)
	fmt.Fprintf(a.stdout, "Watch it:  tidings status %s --env %s --watch\nStop it:   tidings pause %s --env %s --reason \"...\"\n", l.camp.Name, env.Name, l.camp.Name, env.Name)
	return nil
}

// confirmProduction asks for the campaign name to be typed, or checks --confirm.
func (a *app) confirmProduction(name string, n int, confirm string) error {
	if confirm != "" {
		if confirm != name {
			return configError(fmt.Errorf("--confirm %q does not match the campaign name %q", confirm, name))
		}
		return nil
	}
	f, ok := a.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return configError(fmt.Errorf("this is a production environment: pass --confirm %s to send without a terminal", name))
	}
	fmt.Fprintf(a.stdout, "\nThis sends %d messages in PRODUCTION. Type the campaign name (%s) to confirm: ", n, name)
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && line == "" {
		return configError(errors.New("not confirmed: nothing typed"))
	}
	if strings.TrimSpace(line) != name {
		return configError(fmt.Errorf("not confirmed: you typed %q, the campaign is %q", strings.TrimSpace(line), name))
	}
	return nil
}

type stageOptions struct {
	resumeExisting bool
	start          bool
	chunkSize      int
}

// stage streams the accepted recipients into Redis and records the rejects.
func (a *app) stage(ctx context.Context, l *loaded, env *environment.Environment, rdb redisClient, sum *plan.Summary, o stageOptions) (*store.StageSummary, error) {
	snap, err := render.Snapshot(l.templates, l.locales, l.camp.Template)
	if err != nil {
		return nil, configError(err)
	}
	// The environment's List-Unsubscribe applies when the campaign sets none;
	// it is stored with the definition, so every worker uses the same.
	if l.camp.ListUnsubscribe == "" && env != nil {
		l.camp.ListUnsubscribe = env.ListUnsubscribe
	}
	def, err := l.camp.Definition()
	if err != nil {
		return nil, configError(err)
	}
	who, host := actorName()
	envName := "rehearsal"
	if env != nil {
		envName = env.Name
	}
	stager, err := store.NewStager(ctx, rdb, store.StageConfig{
		Campaign:        l.camp.Name,
		Definition:      def,
		Hash:            l.engine.Hash(),
		Snapshot:        snap,
		Env:             envName,
		Who:             who,
		Host:            host,
		Columns:         sum.Columns,
		CanaryPerLocale: l.camp.Batches.CanaryPerLocale,
		BatchSize:       l.camp.Batches.Size,
		ChunkSize:       o.chunkSize,
		ResumeExisting:  o.resumeExisting,
	})
	if err != nil {
		if errors.Is(err, store.ErrCampaignExists) {
			return nil, configError(fmt.Errorf("%w: campaign %q is already staged in %s; see it with 'tidings status %s --env %s', or re-stage with --resume-existing (never re-sends anyone already sent)",
				err, l.camp.Name, envName, l.camp.Name, envName))
		}
		return nil, classify(err)
	}
	bar := a.progress(int64(sum.Accepted), "staging")
	staged, err := a.runPlan(ctx, l, env, func(acc plan.Accepted) error {
		bar.Add(1)
		return stager.Add(ctx, store.Recipient{
			Line: acc.Line, ID: acc.ID, Email: acc.Email, Name: acc.Name, Locale: acc.Locale,
			Lang: acc.Match.Lang, Via: acc.Match.Via, Fields: acc.Fields,
		})
	})
	if err != nil {
		return nil, err
	}
	bar.Finish()
	// The file was read again to stage it. If it changed since the plan
	// that was shown and decided on, start nothing: the campaign is not
	// recorded as staged until Finish, so send can simply run again.
	if staged.Rows != sum.Rows || staged.Accepted != sum.Accepted || staged.Refused != sum.Refused || staged.Invalid != sum.Invalid {
		return nil, configError(fmt.Errorf("%s changed while it was being staged (plan: %d rows, %d accepted, %d refused, %d invalid; staging read %d, %d, %d, %d): nothing was started; run send again once the file no longer changes",
			l.recipientsPath(), sum.Rows, sum.Accepted, sum.Refused, sum.Invalid, staged.Rows, staged.Accepted, staged.Refused, staged.Invalid))
	}
	// Rejects come from the same pass as the staged rows, so every row of
	// the file read is either staged or recorded.
	for _, r := range staged.Rejects {
		if err := stager.Reject(ctx, store.Reject{Line: r.Line, ID: r.ID, Email: r.Email, Locale: r.Locale, Outcome: r.Outcome, Code: r.Code, Field: r.Field, Reason: r.Reason}); err != nil {
			return nil, classify(err)
		}
	}
	st, err := stager.Finish(ctx, o.start)
	if err != nil {
		return nil, classify(err)
	}
	return st, nil
}

// dryRun renders every accepted recipient's message locally and delivers
// nothing.
func (a *app) dryRun(ctx context.Context, l *loaded, env *environment.Environment, sum *plan.Summary) error {
	perLang := map[string]int{}
	var failed int
	_, err := a.runPlan(ctx, l, env, func(acc plan.Accepted) error {
		_, err := l.engine.Render(acc.Match, render.Data{
			ID: acc.ID, Email: acc.Email, Name: acc.Name, Campaign: l.camp.Name, Fields: acc.Fields, Data: l.camp.Data,
		})
		if err != nil {
			failed++
			fmt.Fprintf(a.stderr, "%s:%d: render for %s: %s\n", l.recipientsPath(), acc.Line, acc.Email, err)
			return nil
		}
		perLang[acc.Match.Lang]++
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "\nDry run: rendered %d messages (", sum.Accepted-failed)
	first := true
	for _, c := range l.engine.Languages() {
		if n := perLang[c.Lang]; n > 0 {
			if !first {
				fmt.Fprint(a.stdout, ", ")
			}
			fmt.Fprintf(a.stdout, "%s %d", c.Lang, n)
			first = false
		}
	}
	fmt.Fprintln(a.stdout, "); nothing was queued or delivered.")
	if failed > 0 {
		return problems("%d messages failed to render", failed)
	}
	return nil
}
