// Package rehearsal runs a whole campaign end to end on the machine and
// nothing leaves it: plan, staging in the plan's batches (package launch),
// canary, batches and a real worker (package worker) on an embedded
// Redis-compatible server (package redisserver) and an embedded SMTP server
// that captures every message (package smtpcapture). `tidings rehearse`
// and `tidings demo` run it.
//
// It writes into Config.Out: mail/<lang>/*.eml (every captured message,
// by its recipient's matched language), preview/ (the gallery of every
// language), report.csv and report.json (every recipient's outcome,
// package report) and summary.txt (the status, package statusview), and
// marks Config.Out and mail/ as a rehearsal's (Mark). It writes only into
// a directory that is new, empty (but for Config.Keep) or marked, and
// replaces only a mail/ directory a rehearsal wrote: any other is a
// *ForeignDirError, and nothing is written or removed.
//
// To finish quickly, a rehearsal ignores the campaign's rate and batch
// intervals and approves the canary itself; refused and invalid rows are
// recorded as such. Result.Notes says what was changed. The allowlist and
// settings of the environment the campaign names apply when the caller
// loaded it (Config.Env), as a send there applies them; Result.EnvNote says
// whose applied.
package rehearsal

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/address"
	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/plan"
	"github.com/tidings-mail/tidings/internal/redisserver"
	"github.com/tidings-mail/tidings/internal/report"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/statusview"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/unsubscribe"
	"github.com/tidings-mail/tidings/internal/userfile"
	"github.com/tidings-mail/tidings/worker"
)

// Env is the environment name a rehearsal stages and sends in.
const Env = "rehearsal"

// Config configures a rehearsal.
type Config struct {
	Bundle *bundle.Bundle
	// Out is the directory to write into (required); it is created.
	// One that holds files no rehearsal wrote (it has no Mark) is refused.
	Out string
	// Keep names entries of Out that the caller wrote there for this
	// rehearsal (the demo's campaign/): they do not make Out foreign, and
	// the rehearsal leaves them alone.
	Keep []string
	// Logger receives the worker's logs (default: discarded).
	Logger *slog.Logger
	// Who and Host are recorded in the audit log.
	Who, Host string
	// Timeout bounds the sending (default 30 minutes).
	Timeout time.Duration
	// Env is the environment the campaign names, whose allowlist the plan
	// applies and whose list_unsubscribe it uses, as send there does (nil:
	// none). EnvErr says why the environment the campaign names could not
	// be loaded: the rehearsal then applies none and says so.
	Env    *environment.Environment
	EnvErr error
	// Suppress names more suppression lists for this rehearsal (rehearse
	// --suppress), applied beside Env's as plan and send apply theirs, and
	// also when no environment was loaded.
	Suppress []string
}

// Result is what a rehearsal produced.
type Result struct {
	Campaign string
	Out      string
	Plan     *plan.Summary
	Status   *store.Status
	// Mails counts the captured messages by language ("unknown" for one
	// that no sent recipient explains); Captured is their total.
	Mails    map[string]int
	Captured int
	// CanarySent is the number of messages the canary batch sent.
	CanarySent int
	// Notes says what the rehearsal changed to finish quickly.
	Notes []string
	// EnvNote says whose allowlist applied: the campaign's environment's,
	// or none and why (empty: the campaign names no environment).
	EnvNote string
	// Refusals counts the rows not sent by "outcome: reason": the plan's
	// and those the worker refused or found invalid at send time.
	Refusals map[string]int
	// The files written.
	Gallery, ReportCSV, ReportJSON, Summary, MailDir string
	Elapsed                                          time.Duration
}

// Problems reports whether any row was refused or invalid, by the plan or
// by the worker at send time, or any message failed or is in doubt.
func (r *Result) Problems() bool {
	if r.Plan.Refused+r.Plan.Invalid > 0 {
		return true
	}
	// The outcomes that are problems (exit 1), not store.Outcomes: sent,
	// skipped (delivered before), cancelled and pending are not.
	for _, o := range []string{store.OutcomeRefused, store.OutcomeInvalid, store.OutcomeFailed, store.OutcomeInDoubt} {
		if r.Status.Counts[o] > 0 {
			return true
		}
	}
	return false
}

// newResult is the result of rehearsing campaign into out, before it ran.
func newResult(campaign, out string) *Result {
	return &Result{Campaign: campaign, Out: out, Mails: map[string]int{}, Refusals: map[string]int{},
		MailDir: filepath.Join(out, "mail"), ReportCSV: filepath.Join(out, "report.csv"),
		ReportJSON: filepath.Join(out, "report.json"), Summary: filepath.Join(out, "summary.txt")}
}

// PausedError says that the campaign paused itself during the rehearsal
// (an auto-pause or a batch gate): Reason says why.
type PausedError struct{ Reason string }

// Error says what went wrong.
func (e *PausedError) Error() string { return "the rehearsal paused itself: " + e.Reason }

// TimeoutError says that the campaign did not finish within Config.Timeout.
type TimeoutError struct{ Timeout time.Duration }

// Error says what went wrong.
func (e *TimeoutError) Error() string {
	return fmt.Sprintf("the rehearsal did not finish within %s", e.Timeout)
}

// Run rehearses cfg.Bundle's campaign into cfg.Out.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	start := time.Now()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Minute
	}
	// A rehearsal finishes quickly: no rate, no intervals (on a copy of the
	// campaign), canary approved by the rehearsal itself.
	b := *cfg.Bundle
	camp := *b.Campaign
	b.Campaign = &camp
	res := newResult(camp.Name, cfg.Out)
	if camp.Batches.Interval > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("batch interval %s skipped", camp.Batches.Interval))
		camp.Batches.Interval = 0
	}
	if !camp.Rate.Unlimited() {
		res.Notes = append(res.Notes, fmt.Sprintf("rate %s ignored", camp.Rate))
		camp.Rate = campaign.Rate{}
	}
	if err := claimOut(cfg.Out, cfg.Keep); err != nil {
		return nil, err
	}

	in := b.LaunchInput(cfg.Env, cfg.Who, cfg.Host, nil)
	in.EnvName = Env // the embedded Redis's, whatever the allowlist
	switch {
	case cfg.Env != nil:
		res.EnvNote = fmt.Sprintf("the allowlist, suppression lists and settings of environment %s, which the campaign names, applied as a send there applies them", cfg.Env.Name)
	case cfg.EnvErr != nil && camp.Environment != "":
		res.EnvNote = fmt.Sprintf("environment %s, which the campaign names, not loaded (%v): no allowlist or suppression list applied, unlike a send there", camp.Environment, cfg.EnvErr)
	}
	in.Suppress = cfg.Suppress // beside the environment's, as plan and send add theirs
	planned, err := launch.Plan(ctx, in)
	if err != nil {
		return nil, err
	}
	res.Plan = planned.Summary
	for _, r := range res.Plan.Rejects {
		res.Refusals[r.Outcome+": "+r.Reason]++
	}
	// Nothing to send: stage the rejects anyway, so that the report is
	// complete.
	accepted := res.Plan.Accepted > 0
	stage := func(ctx context.Context, s *store.Store) (bool, error) {
		_, err := planned.Stage(ctx, s, launch.Options{SkipRefused: true, SkipInvalid: true, Start: accepted, AllowEmpty: true})
		return accepted, err
	}
	if err := res.rehearse(ctx, cfg, &b, stage); err != nil {
		return nil, err
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// rehearse stages the campaign of b on an embedded Redis (stage, which
// reports whether it started it), sends it with a real worker to an
// embedded capturing SMTP server, and accounts for every row and writes the
// files.
func (r *Result) rehearse(ctx context.Context, cfg Config, b *bundle.Bundle, stage func(context.Context, *store.Store) (bool, error)) error {
	srv, err := redisserver.Start(ctx)
	if err != nil {
		return fmt.Errorf("start the embedded Redis: %w", err)
	}
	defer srv.Close()
	// Messages stream to disk as they are accepted (a rehearsal of a million
	// recipients must not hold them in memory); they are sorted into
	// mail/<lang>/ afterwards.
	incoming := filepath.Join(r.MailDir, ".incoming")
	if err := clearMail(r.MailDir, r.Summary); err != nil {
		return err
	}
	capture, err := smtpcapture.Start(ctx, smtpcapture.Config{Dir: incoming, DiscardData: true})
	if err != nil {
		return fmt.Errorf("start the capturing SMTP server: %w", err)
	}
	defer capture.Close()
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()

	s := store.New(rdb)
	accepted, err := stage(ctx, s)
	if err != nil {
		return err
	}
	if accepted {
		if err := sendAll(ctx, cfg, s, rdb, capture, r); err != nil {
			return err
		}
	}
	if r.Status, err = s.Status(ctx, r.Campaign); err != nil {
		return err
	}
	for _, bt := range r.Status.Batches {
		if bt.Canary {
			r.CanarySent = bt.Sent
		}
	}
	if err := r.sortMail(ctx, s, capture.Messages(), incoming); err != nil {
		return err
	}
	if err := r.writeFiles(ctx, s); err != nil {
		return err
	}
	pr, err := b.Preview(ctx, filepath.Join(cfg.Out, "preview"), worker.PreviewComposer(b.Campaign, cfg.unsubscribeSecret()))
	if err != nil {
		return err
	}
	r.Gallery = pr.Index
	return nil
}

// Mark is the file that says a rehearsal wrote the directory it is in:
// the output directory (Config.Out) and its mail/.
const Mark = ".tidings-rehearsal"

// written are the entries a rehearsal writes in its output directory.
var written = []string{Mark, "mail", "preview", "report.csv", "report.json", "summary.txt"}

// ForeignDirError says that a rehearsal's output directory, or its mail
// directory, exists and holds files no rehearsal wrote (Files, at the top
// of the output directory): nothing was written or removed.
type ForeignDirError struct {
	Dir   string
	Files []string
}

// Error says what went wrong.
func (e *ForeignDirError) Error() string {
	if len(e.Files) > 0 {
		return fmt.Sprintf("rehearsal output %s holds files no rehearsal wrote (%s) and no %s of an earlier rehearsal; "+
			"a rehearsal writes %s there, replacing what is there: choose a new or empty output directory (nothing was removed, and nothing written)",
			e.Dir, strings.Join(e.Files, ", "), Mark, strings.Join(written[1:], ", "))
	}
	return "rehearsal output " + e.Dir + " exists and holds files no rehearsal wrote, which a rehearsal would replace: choose a new or empty output directory (nothing was removed)"
}

// claimOut makes dir a rehearsal's output directory: it creates it and
// marks it (Mark). A directory that exists and holds entries other than
// keep is written into only when it is marked, or written by a rehearsal
// before the mark (nothing but what a rehearsal writes, with a marked
// mail/); any other is a *ForeignDirError naming those entries, and
// nothing is written.
func claimOut(dir string, keep []string) error {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("rehearsal output %s: %w", dir, err)
	}
	var own []string
	older := true
	for _, e := range entries {
		if !slices.Contains(keep, e.Name()) {
			own = append(own, e.Name())
			older = older && slices.Contains(written, e.Name())
		}
	}
	if len(own) > 0 && !exists(filepath.Join(dir, Mark)) && (!older || !exists(filepath.Join(dir, "mail", Mark))) {
		return &ForeignDirError{Dir: dir, Files: own}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create rehearsal directory: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, Mark), []byte("written by a rehearsal of tidings; overwritten by the next one\n"), userfile.Perm); err != nil {
		return fmt.Errorf("mark %s: %w", dir, err)
	}
	return nil
}

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// clearMail empties dir, the mail directory, for a new rehearsal and marks
// it (Mark). Only a directory that does not exist, is empty, or holds
// an earlier rehearsal's messages (its mark; or, written before the mark,
// only <lang>/*.eml beside the summary file) is cleared; anything else is a
// *ForeignDirError, so that a rehearsal loses nothing it did not write.
func clearMail(dir, summary string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist) || (err == nil && len(entries) == 0):
	case err != nil:
		return fmt.Errorf("rehearsal output %s: %w", dir, err)
	case !earlierRehearsal(dir, summary, entries):
		return &ForeignDirError{Dir: dir}
	default:
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("clear the earlier rehearsal's messages in %s: %w", dir, err)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if err := os.WriteFile(filepath.Join(dir, Mark), []byte("written by a rehearsal of tidings; cleared by the next one\n"), userfile.Perm); err != nil {
		return fmt.Errorf("mark %s: %w", dir, err)
	}
	return nil
}

// earlierRehearsal reports whether the mail directory dir with entries was
// written by a rehearsal: it has the mark, or (an older rehearsal's) it
// holds only directories of .eml files and the summary file exists.
func earlierRehearsal(dir, summary string, entries []fs.DirEntry) bool {
	if _, err := os.Stat(filepath.Join(dir, Mark)); err == nil {
		return true
	}
	if _, err := os.Stat(summary); err != nil {
		return false
	}
	for _, e := range entries {
		if !e.IsDir() {
			return false
		}
		files, err := os.ReadDir(filepath.Join(dir, e.Name()))
		if err != nil {
			return false
		}
		for _, f := range files {
			if f.IsDir() || filepath.Ext(f.Name()) != ".eml" {
				return false
			}
		}
	}
	return true
}

// sendAll runs one in-process worker against the embedded servers until
// the campaign is done, approving the canary itself.
func sendAll(ctx context.Context, cfg Config, s *store.Store, rdb *redis.Client, capture *smtpcapture.Server, res *Result) error {
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	w, err := worker.New(worker.Config{
		Redis: rdb, Concurrency: 4, Env: Env, Logger: cfg.Logger, UnsubscribeSecret: cfg.unsubscribeSecret(),
		SMTP: send.Config{Host: capture.Host(), Port: capture.Port(), TLS: send.TLSNone},
	})
	if err != nil {
		return fmt.Errorf("start the rehearsal's worker: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	finish := func(err error) error {
		stop()
		if werr := <-done; err == nil && werr != nil && !errors.Is(werr, context.Canceled) {
			return fmt.Errorf("rehearsal worker: %w", werr)
		}
		return err
	}
	actor := store.Actor{Who: cfg.Who, Host: cfg.Host, Env: Env}
	deadline := time.After(cfg.Timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := s.Status(ctx, res.Campaign)
		if err != nil {
			return finish(err)
		}
		switch st.State {
		case store.StateAwaitingApproval:
			if _, err := s.Approve(ctx, res.Campaign, "", false, actor, "rehearsal: approved automatically after the canary"); err != nil {
				return finish(err)
			}
			res.Notes = append(res.Notes, fmt.Sprintf("canary of %d message(s) approved automatically", st.Counts[store.OutcomeSent]))
		case store.StatePaused:
			return finish(&PausedError{Reason: statusview.Reason(st)})
		case store.StateDone, store.StateCancelled:
			return finish(nil)
		}
		select {
		case err := <-done:
			return fmt.Errorf("rehearsal worker stopped early: %w", err)
		case <-ctx.Done():
			return finish(ctx.Err())
		case <-deadline:
			return finish(&TimeoutError{Timeout: cfg.Timeout})
		case <-tick.C:
		}
	}
}

// sortMail moves the files of the captured messages from incoming into
// mail/<lang>/, by their envelope recipient's matched language, and counts
// in Refusals the staged rows the worker refused or found invalid.
func (r *Result) sortMail(ctx context.Context, s *store.Store, msgs []smtpcapture.Message, incoming string) error {
	langOf := map[string]string{}
	if err := s.Report(ctx, r.Campaign, func(row store.Row) error {
		switch {
		case row.Outcome == store.OutcomeSent:
			langOf[address.KeyOf(row.Email)] = row.Lang
		case row.Batch >= 0 && (row.Outcome == store.OutcomeRefused || row.Outcome == store.OutcomeInvalid):
			// Staged, so the plan accepted it (its own rejects have
			// batch -1 and are counted from the plan).
			r.Refusals[row.Outcome+" by the worker at send time: "+row.Response]++
		}
		return nil
	}); err != nil {
		return err
	}
	for _, m := range msgs {
		// The envelope has the address as sent (an IDN domain as its
		// A-label): matched by mailbox, not by spelling.
		lang := langOf[address.KeyOf(m.To[0])]
		if lang == "" {
			lang = "unknown"
		}
		if err := os.MkdirAll(filepath.Join(r.MailDir, lang), 0o700); err != nil {
			return fmt.Errorf("sort captured mail: %w", err)
		}
		name := smtpcapture.FileName(m)
		if err := os.Rename(filepath.Join(incoming, name), filepath.Join(r.MailDir, lang, name)); err != nil {
			return fmt.Errorf("sort captured mail: %w", err)
		}
		r.Mails[lang]++
		r.Captured++
	}
	if err := os.Remove(incoming); err != nil {
		return fmt.Errorf("sort captured mail: %w", err)
	}
	return nil
}

// writeFiles writes the reports and the summary.
func (r *Result) writeFiles(ctx context.Context, s *store.Store) error {
	for _, f := range []struct{ path, format string }{{r.ReportCSV, report.FormatCSV}, {r.ReportJSON, report.FormatJSON}} {
		fh, err := userfile.CreateOwn(ctx, f.path)
		if err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		err = report.Write(ctx, s, r.Campaign, fh, report.Options{Format: f.format})
		if cerr := fh.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write report: %w", cerr)
		}
		if err != nil {
			return err
		}
	}
	sf, err := userfile.CreateOwn(ctx, r.Summary)
	if err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	statusview.Write(sf, r.Status, "")
	if err := sf.Close(); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

// unsubscribeSecret is the key of {token}: the environment's, else the
// preview key (nothing leaves the machine; launch.Plan refused {token}
// in an environment without one).
func (cfg Config) unsubscribeSecret() environment.Secret {
	if cfg.Env != nil && cfg.Env.UnsubscribeSecret.IsSet() {
		return cfg.Env.UnsubscribeSecret
	}
	return environment.Secret(unsubscribe.PreviewSecret)
}
