package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/internal/check"
	"github.com/tidings-mail/tidings/internal/confirm"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/flagvalue"
	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/nextstep"
	"github.com/tidings-mail/tidings/internal/plan"
	"github.com/tidings-mail/tidings/internal/progress"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/suppress"
	"github.com/tidings-mail/tidings/internal/unsubscribe"
)

type sendOptions struct {
	env, rejects, confirm string
	dryRun                bool
	exclude, suppress     []string
	show                  int
	launch                launch.Options
}

func (a *app) cmdSend() *cobra.Command {
	var o sendOptions
	c := withHelp(&cobra.Command{
		Use:   "send CAMPAIGN --env ENV",
		Short: "Plan, then stage the campaign in Redis and start it",
		Args:  argsExact(1, "one campaign file"),
		RunE:  func(cmd *cobra.Command, args []string) error { return a.runSend(cmd.Context(), args[0], o) },
	})
	addEnv(c, &o.env, "environment to send in (required; must match the campaign file's environment)", true)
	c.Flags().BoolVar(&o.launch.SkipRefused, "skip-refused", false, "send to the others when some rows are refused (they are recorded as refused)")
	c.Flags().BoolVar(&o.launch.SkipInvalid, "skip-invalid", false, "send to the others when some rows are invalid (they are recorded as invalid)")
	c.Flags().StringVar(&o.rejects, "rejects", "", plan.RejectsUsage)
	c.Flags().StringVar(&o.confirm, "confirm", "", "the campaign name, to confirm a production send without a terminal")
	c.Flags().BoolVar(&o.dryRun, "dry-run", false, "render every message and deliver nothing; touches no queue")
	c.Flags().BoolVar(&o.launch.ResumeExisting, "resume-existing", false, "re-stage a campaign that exists; never re-sends anyone already sent")
	c.Flags().BoolVar(&o.launch.NewUnsubscribeSecret, "new-unsubscribe-secret", false, "with --resume-existing: stage a {token} campaign with another unsubscribe secret than it was staged with (every worker needs the new one)")
	c.Flags().BoolVar(&o.launch.NoneDelivered, "none-delivered", false, "stage again a campaign Redis lost that no worker ever sent (no worker host has a journal of it)")
	c.Flags().StringArrayVar(&o.suppress, "suppress", nil, suppress.Usage)
	c.Flags().StringArrayVar(&o.exclude, "exclude-delivered", nil, "skip the recipients this delivery journal (directory or .jsonl) or report (.csv/.json) records as sent or in doubt; repeatable")
	c.Flags().Var(flagvalue.NewCount(&o.show, 20, "0 shows none"), "show", "how many refused/invalid rows to show on screen")
	return c
}

func (a *app) runSend(ctx context.Context, file string, o sendOptions) (err error) {
	b, env, err := a.loadCampaign(file, o.env)
	if err != nil {
		return err
	}
	name := b.Campaign.Name
	staging := false // until Stage: an interrupt before it staged nothing
	defer func() {
		if !staging && errors.Is(err, context.Canceled) && !errors.As(err, new(*exitError)) {
			err = &exitError{code: 130, err: errors.New(nextstep.NotStaged(name, o.env, o.again(file)))}
		}
	}()
	if err := launch.Pinned(b.Campaign, env); err != nil { // before the exclusions, read in env's state_dir
		return err
	}
	var excl *launch.Delivered
	if len(o.exclude) > 0 {
		if excl, err = launch.LoadDeliveredIn(env.StateDir, env.Name, name, o.exclude); err != nil {
			return configError(nextstep.Excluding(err, o.again(file)))
		}
		excl.WriteSummary(a.stdout)
		a.warnTruncated(excl.Truncated)
	}
	p, err := a.plan(ctx, b, env, excl, o.suppress)
	if err != nil {
		return err
	}
	sum := p.Summary
	sum.WriteText(a.stdout, o.show)
	if err := check.WriteWarnings(a.stdout, file, check.DataWarnings(b), 5); err != nil { // check's, not a refusal
		return err
	}
	path, err := sum.WriteRejectsFile(ctx, o.rejects) // or removes an earlier plan's, with none
	if err != nil {
		return fmt.Errorf("--rejects %w", err)
	}
	printf(a.stdout, path != "", "\n%s\n", sum.RejectsLine(launch.Abs(path))) // plan's words
	printf(a.stdout, sum.KeptNote() != "", "\n%s\n", sum.KeptNote())
	opts := o.launch
	opts.Start, opts.StateDir, opts.JournalDir, opts.Rejects = true, env.StateDir, env.Journal.Dir, o.rejects
	if err := p.Check(opts); err != nil {
		return a.launchError(err, b, env)
	}
	if o.dryRun {
		sum.WriteDryRun(a.stdout, b.Engine.Languages())
		return nil
	}
	st, err := a.storeOf(ctx, env)
	if err != nil {
		return err
	}
	defer st.Client().Close()
	if err := p.Preflight(ctx, st, opts); err != nil {
		return a.launchError(err, b, env)
	}
	if env.Production {
		if err := confirm.Production(a.stdin, a.stdout, name, sum.Accepted, o.confirm); err != nil {
			return err
		}
	}
	bar := progress.New(a.stderr, int64(sum.Accepted), "staging")
	opts.Progress = bar.Add
	staging = true
	res, err := p.Stage(ctx, st, opts)
	bar.Finish()
	if errors.As(err, new(*launch.InterruptedError)) {
		return o.interrupted(err, file)
	}
	if err != nil && res == nil {
		return a.launchError(err, b, env)
	}
	e := env.Name
	printf(a.stdout, res.Closed == "", "\nStaged %s of %q in %s (%s) in environment %s.\n", plan.CountOf(res.Staged, "recipient", "recipients"), name, plan.CountOf(res.Batches, "batch", "batches"), plan.CountOf(res.Chunks, "chunk", "chunks"), e)
	printf(a.stdout, res.Kept > 0, "%d recipients keep their earlier outcome (sent, in-doubt, failed, or skipped as delivered) and will not be sent again.\n", res.Kept)
	printf(a.stdout, res.Carried > 0, "%d of them have a new id: matched by address to the id they were staged under before.\n", res.Carried)
	printf(a.stdout, sum.Skipped > 0, "%d recipients were skipped as already delivered (recorded as skipped in the report).\n", sum.Skipped)
	printf(a.stdout, res.Record != "", "Recorded the start (run %s) in %s.\n", res.Run, res.Record)
	if err != nil {
		return a.launchError(err, b, env) // staged and started, but the record or the replicas' acknowledgement failed
	}
	printf(a.stdout, res.Closed != "", "%s.\n", res.Closed)
	printf(a.stdout, res.State == store.StateRunning, "The campaign is running: workers pick it up (start them with: tidings worker --env %s).\n", e)
	printf(a.stdout, res.State == store.StatePaused, "The campaign stays paused, not running (paused %s); start it with: tidings resume %s --env %s\n", res.Paused, name, e)
	printf(a.stdout, res.Closed == "", "Watch it:  tidings status %s --env %s --watch\n", name, e)
	printf(a.stdout, res.State == store.StateRunning, "Stop it:   tidings pause %s --env %s --reason \"...\"\n", name, e)
	printf(a.stdout, sum.Batches.WaitsForApproval(), "After the canary, check it and approve the rest: tidings approve %s --env %s\n", name, e)
	return nil
}

// again is the send of campaign file run with o, as it can be pasted
// from any directory.
func (o sendOptions) again(file string) nextstep.SendRun {
	return nextstep.SendRun{File: file, Env: o.env, ResumeExisting: o.launch.ResumeExisting, Exclude: o.exclude, NoneDelivered: o.launch.NoneDelivered, Confirm: o.confirm, Suppress: o.suppress,
		Options: &launch.SendOptions{SkipRefused: o.launch.SkipRefused, SkipInvalid: o.launch.SkipInvalid, Rejects: o.rejects}}
}

// interrupted words err, the staging of campaign file by a send run with
// o interrupted, with the same send to run again (exit 130, as any
// interrupted command).
func (o sendOptions) interrupted(err error, file string) error {
	return &exitError{code: 130, err: fmt.Errorf("%w: run the same send again to stage it: %s", err, o.again(file).Command())}
}

// printf prints to w when cond holds.
func printf(w io.Writer, cond bool, format string, args ...any) {
	if cond {
		fmt.Fprintf(w, format, args...)
	}
}

// warnTruncated warns of delivery journals that end with an incomplete
// line.
func (a *app) warnTruncated(files []string) {
	for _, f := range files {
		fmt.Fprintf(a.stderr, "tidings: warning: %s ends with an incomplete line (its worker died while writing it); every complete line was read, and the recipient the cut line names, if it got that far, counts as in doubt\n", f)
	}
}

// launchError words an error of the launch use-case and gives it its exit
// code.
func (a *app) launchError(err error, b *bundle.Bundle, env *environment.Environment) error {
	name, e := b.Campaign.Name, env.Name
	var rej *launch.RejectedError
	var lost *launch.StateLostError
	var changed *launch.ChangedError
	var te *store.TransitionError
	var ae *store.AckError
	var ex *store.ExistsError
	switch {
	case errors.As(err, &rej):
		var why []string
		if rej.Refused > 0 {
			why = append(why, fmt.Sprintf("%d refused (pass --skip-refused to send to the others)", rej.Refused))
		}
		if rej.Invalid > 0 {
			why = append(why, fmt.Sprintf("%d invalid (fix them, or pass --skip-invalid)", rej.Invalid))
		}
		fmt.Fprintf(a.stderr, "tidings: not sending: %s\n", strings.Join(why, "; "))
		return problems("not sending")
	case errors.Is(err, launch.ErrNoRecipient), errors.Is(err, launch.ErrNewToDone), errors.As(err, new(*store.MetaLostError)): // a state loss: exit 1
		return problemsErr(err) // and why, when it says
	case errors.As(err, &lost):
		return problemsErr(errors.New(nextstep.StateLost(lost, b.File, e)))
	case errors.As(err, &changed):
		return configError(fmt.Errorf("%w; run send again once the files no longer change (it checks and shows them as they are then)", err))
	case errors.As(err, &ex):
		return configError(errors.New(nextstep.Exists(ex, b.File, e)))
	case errors.As(err, new(*store.UnsubscribeKeyError)):
		return configError(fmt.Errorf("%w: set %s to the secret it was staged with, the one its workers and the site hold, and send again; or, if the secret was changed on purpose (the site holds the new one), send again adding --new-unsubscribe-secret, and give the new one to every worker of %s", err, unsubscribe.SecretSettings, e))
	case errors.Is(err, store.ErrNothingToSend):
		fmt.Fprintf(a.stdout, "Campaign %q is done: nothing is left to send. See who received it with 'tidings report %s --env %s'.\n", name, name, e)
		return nil
	case errors.As(err, &te) && te.Action == "stage":
		return configError(fmt.Errorf("campaign %q is %s: pause it first (tidings pause %s --env %s --reason ...), then send --resume-existing (it stays paused until 'tidings resume')", name, te.State, name, e))
	case errors.As(err, &ae):
		return infraError(fmt.Errorf("campaign %q was staged and started, but only %d of %d required Redis replicas acknowledged it: a failover now could lose it; check the replicas (tidings doctor --env %s) and 'tidings status %s --env %s'",
			name, ae.Got, ae.Want, e, name, e))
	}
	return storeError(err, e, nil)
}

// plan reads and checks every recipient of b for environment env (plan,
// and send before it stages).
func (a *app) plan(ctx context.Context, b *bundle.Bundle, env *environment.Environment, excl *launch.Delivered, lists []string) (*launch.Planned, error) {
	who, host := actorName()
	in := b.LaunchInput(env, who, host, excl)
	in.Suppress = lists // beside env's
	p, err := launch.Plan(ctx, in)
	var sl *launch.SuppressListError
	switch {
	case errors.As(err, &sl):
		return nil, configError(fmt.Errorf("--suppress %w", sl.Err))
	case errors.Is(err, fs.ErrNotExist):
		return nil, configError(b.KeyError(err))
	case err != nil:
		return nil, classify(err)
	}
	return p, nil
}
