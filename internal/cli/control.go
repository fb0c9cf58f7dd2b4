package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/nextstep"
	"github.com/tidings-mail/tidings/internal/progress"
	"github.com/tidings-mail/tidings/internal/store"
)

// control is a command that acts on a staged campaign in Redis (every
// worker reads its control state every 200 ms) and records who, where,
// when and why in the audit log: pause, resume, approve, cancel, retry.
type control struct {
	use, short string
	reason     string // the --reason flag: "required", "optional" or "" (none)
	// do acts; o holds the flags only one command has.
	do func(ctx context.Context, s *store.Store, c string, who store.Actor, why string, o opts) (string, error)
}

// opts are retry's --permanent and --code, approve's --in-advance and --as,
// where cancel draws its progress bar (stderr, when a terminal), and the
// campaign files this host staged (for the sends advised).
type opts struct {
	scope     store.RetryScope
	inAdvance bool
	as        string // approve's --as
	stderr    io.Writer
	files     nextstep.Files
}

var controls = []control{{
	use: "pause CAMPAIGN --env ENV --reason TEXT", short: "Stop new sends now, across all workers (within a second)", reason: "required",
	do: func(ctx context.Context, s *store.Store, c string, who store.Actor, why string, o opts) (string, error) {
		// Paused before: by whom, and what that pause allows (Pause returns
		// it paused; a pause for state loss is not resumed).
		already, err := s.Pause(ctx, c, who, why)
		next, other := s.PauseNext(ctx, c, already) // of another stored format: this build refuses its resume
		h := o.files.Paused(next, c, who.Env, other)
		done := ""
		if already == nil && err == nil { // claims held now finish: how many
			done = fmt.Sprintf("Paused %s. %s", c, store.SayPaused(s.InFlight(ctx, c)))
		}
		return already.AlreadyOr(c, "pause", done) + "\n" + h, err
	},
}, {
	use: "resume CAMPAIGN --env ENV", short: "Continue a paused campaign where it stopped", reason: "optional",
	do: func(ctx context.Context, s *store.Store, c string, who store.Actor, why string, _ opts) (string, error) {
		already, err := s.Resume(ctx, c, who, why)
		if already == nil && err == nil { // resuming does not approve: what still holds it, if anything
			return strings.TrimSpace(fmt.Sprintf("Resumed %s.\n%s", c, nextstep.AfterResume(ctx, s, c, who.Env))), nil
		}
		return already.AlreadyOr(c, "resume", fmt.Sprintf("Resumed %s.", c)), err
	},
}, {
	use: "approve CAMPAIGN --env ENV [--in-advance] [--as NAME]", short: "Release the batches after the canary", reason: "optional",
	do: func(ctx context.Context, s *store.Store, c string, who store.Actor, why string, o opts) (string, error) {
		already, err := s.Approve(ctx, c, "", o.inAdvance, who.SignedAs(o.as), why)
		msg := already.AlreadyOr(c, "approve", fmt.Sprintf("Approved %s: the batches after the canary are released as planned, the next one once the canary is done and the campaign's interval since then has passed (at once if it has); a paused campaign stays paused until resumed.", c))
		if unseen := nextstep.UnseenInCanary(ctx, s, c, who.Env); already == nil && err == nil && unseen != "" {
			msg += "\n" + unseen
		}
		return msg, err
	},
}, {
	use: "cancel CAMPAIGN --env ENV --reason TEXT", short: "Stop for good: every unsent recipient becomes cancelled", reason: "required",
	do: func(ctx context.Context, s *store.Store, c string, who store.Actor, why string, o opts) (string, error) {
		bar := progress.NewLazy(o.stderr, "cancelling") // drawn on a terminal for 10,000 recipients and more
		n, already, err := s.CancelWatched(ctx, c, who, why, bar.Count)
		bar.Finish()
		return n.Answer(c, "Cancelled "+c+": ", already, fmt.Sprintf("run `tidings status %s --env %s` for the final count.", c, who.Env)), err
	},
}, {
	use: "retry CAMPAIGN --env ENV [--permanent] [--code CODE]", short: "Re-queue failures (temporary ones; --permanent: 5xx refusals too); never re-sends anyone sent or in doubt",
	do: func(ctx context.Context, s *store.Store, c string, who store.Actor, _ string, o opts) (string, error) {
		r, err := s.Requeue(ctx, c, who, o.scope)
		msg := nextstep.Requeued(r, o.scope, c, who.Env)   // and what becomes of them (paused; the canary's)
		if err == nil && o.scope == (store.RetryScope{}) { // what a retry of temporary failures leaves, and what re-queues it
			if still := nextstep.AfterRetry(ctx, s, c, who.Env); still != "" {
				msg += "\n" + still
			}
		}
		return msg, err
	},
}}

// cmdControls builds the commands of controls.
func (a *app) cmdControls() []*cobra.Command {
	var cmds []*cobra.Command
	for _, ctl := range controls {
		var env, reason string
		var o opts
		c := withHelp(&cobra.Command{
			Use: ctl.use, Short: ctl.short, Args: argsExact(1, "one campaign name"),
			RunE: func(cmd *cobra.Command, args []string) error {
				if ctl.reason == "required" && strings.TrimSpace(reason) == "" {
					return usageError(cmd, errors.New("--reason is required: say why, it is recorded in the audit log and shown by status"))
				}
				return a.withStore(cmd.Context(), env, func(s *store.Store, e *environment.Environment) error {
					o.stderr, o.files = a.stderr, nextstep.FilesIn(e.StateDir)
					msg, err := ctl.do(cmd.Context(), s, args[0], actor(e), reason, o)
					lost := (*store.LostChunksError)(nil)
					if err == nil || errors.As(err, &lost) {
						fmt.Fprintln(a.stdout, msg) // done for every recipient but the lost chunks'
					}
					if lost != nil && cmd.Name() == "cancel" { // it took: what is left is the staging again
						return problemsErr(o.files.LostChunksCancelled(err, lost.Campaign, e.Name))
					}
					return storeError(err, e.Name, o.files)
				})
			},
		})
		addEnv(c, &env, "environment of the campaign (required)", true)
		if ctl.reason != "" {
			c.Flags().StringVar(&reason, "reason", "", "why; recorded in the audit log")
		}
		if c.Name() == "approve" {
			c.Flags().BoolVar(&o.inAdvance, "in-advance", false, "approve a canary still being sent: the batches after it then go without waiting")
			c.Flags().StringVar(&o.as, "as", "", "the name of who checked the canary and signs off (QA), recorded in the audit log with this account and host")
		}
		if c.Name() == "retry" {
			c.Flags().BoolVar(&o.scope.Permanent, "permanent", false, "also re-queue recipients failed for good by an SMTP 5xx reply (once what refused them is fixed)")
			c.Flags().StringVar(&o.scope.Code, "code", "", "only failures whose last reply has this code: a reply code (554) or an enhanced status code (5.7.1)")
		}
		cmds = append(cmds, c)
	}
	return cmds
}

// storeError words an error of the store about a campaign in environment
// env, and gives it its exit code: an unknown campaign is a usage error (2),
// a control action not possible in the campaign's state or chunks Redis
// lost a problem (1), a
// write not acknowledged by the replicas and unreachable Redis
// infrastructure (3).
func storeError(err error, env string, files nextstep.Files) error {
	var nf *store.NotFoundError
	var te *store.TransitionError
	var ae *store.AckError
	var lost *store.LostChunksError
	var meta *store.MetaLostError
	switch {
	case errors.As(err, &nf) && campaign.CheckName(nf.Campaign, "") != nil: // a file, or a spelling no campaign has
		return configError(campaign.CheckName(nf.Campaign, nf.DidYouMean()))
	case errors.As(err, &nf):
		return configError(nextstep.NotFoundErr(nf, env))
	case errors.As(err, &meta) && meta.Action != "": // as status says it, with its recovery
		return problemsErr(errors.New(meta.Error() + ": " + files.Hint(store.NextRecover, meta.Campaign, env)))
	case errors.As(err, &te):
		return problemsErr(errors.New(files.Transition(te, env)))
	case errors.As(err, &ae):
		return infraError(fmt.Errorf("%w: only %d of the %d Redis replicas required acknowledged it in time, so a failover (one may be under way) could still lose it: run it again (what already took changes nothing more); if it keeps failing, check the replicas with 'tidings doctor --env %s' and look at 'tidings status --env %s'", err, ae.Got, ae.Want, env, env))
	case errors.As(err, &lost):
		return problemsErr(files.LostChunks(err, lost.Campaign, env))
	}
	return classify(err)
}
