// Package free frees what a finished campaign keeps in Redis (`tidings
// free`): its report saved first, every key of the campaign unlinked but
// its ledger and audit log (store.Free), and the start record of this
// host noting it as freed (launch.MarkFreed), so that status, doctor, the
// console and send say it was freed rather than lost.
package free

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/report"
	"github.com/tidings-mail/tidings/internal/store"
)

// Options are what to free, and how.
type Options struct {
	Campaign, Env string
	// StateDir holds this host's start records ("": none).
	StateDir string
	// Report is the file the report is saved to before anything is
	// freed; it must not exist.
	Report string
	// Yes frees; false only says what would be freed.
	Yes   bool
	Actor store.Actor
}

// Result is what Run freed (or, DryRun, would free) and kept.
type Result struct {
	store.Freed
	Env    string
	DryRun bool
	// Report is the report saved (absolute), Record the start record that
	// now notes the free ("": this host started no such campaign).
	Report, Record string
}

// ReportExistsError refuses to save the report over a file that exists:
// it may be the only list of who was sent.
type ReportExistsError struct{ Path string }

func (e *ReportExistsError) Error() string {
	return fmt.Sprintf("%s exists: the report saved before the free is never written over an existing file (it may be the only list of who was sent); give another path; nothing was freed", e.Path)
}

// Run frees campaign o.Campaign (o.Yes) or says what it would free: the
// campaign must be done or cancelled (a *store.NotFreeableError). Its
// report is written to o.Report first (a *ReportExistsError when the file
// exists), and nothing is freed unless the whole report was written.
func Run(ctx context.Context, st *store.Store, o Options) (Result, error) {
	f, err := st.WhatFreeFrees(ctx, o.Campaign, o.Env)
	if err != nil {
		return Result{}, err
	}
	res := Result{Freed: f, Env: o.Env, DryRun: !o.Yes, Report: launch.Abs(o.Report)}
	if !o.Yes {
		return res, nil
	}
	if _, err := os.Lstat(o.Report); !errors.Is(err, fs.ErrNotExist) {
		return Result{}, &ReportExistsError{Path: res.Report}
	}
	if err := report.WriteFile(ctx, o.Report, func(w io.Writer) error {
		return report.Write(ctx, st, o.Campaign, w, report.Options{Format: report.FormatCSV})
	}); err != nil {
		return Result{}, fmt.Errorf("save the report of %s before freeing it: %w", o.Campaign, err)
	}
	if res.Freed, err = st.Free(ctx, o.Campaign, o.Env, o.Actor); err != nil {
		return Result{}, err
	}
	res.Record, err = launch.MarkFreed(o.StateDir, o.Env, o.Campaign, launch.Freed{At: res.At, By: o.Actor.String(), Ledger: res.Ledger, Report: res.Report})
	if err != nil {
		return res, fmt.Errorf("%s is freed; note it in this host's start record: %w", o.Campaign, err)
	}
	return res, nil
}

// Say writes what r freed and kept, and why, or (DryRun) what a free
// would do and how to run it.
func (r Result) Say(w io.Writer) {
	kept := fmt.Sprintf("its ledger (%d recipients%s) and audit log, which keep a send of it again from mailing anyone the ledger records as sent", r.Ledger, size(r.KeptBytes))
	if r.DryRun {
		fmt.Fprintf(w, "campaign %q (%s) in environment %s: a free would unlink %d keys%s and keep %s.\nNothing was changed. To free it, saving its report to %s first: tidings free %s --env %s --yes\n",
			r.Campaign, r.State, r.Env, len(r.Keys), size(r.Bytes), kept, r.Report, r.Campaign, r.Env)
		return
	}
	fmt.Fprintf(w, "report of %s saved to %s\nfreed campaign %q (%s) in environment %s: unlinked %d keys%s; kept %s; took it off the lists of campaigns (tidings:campaigns, tidings:active, tidings:stagings, tidings:doubted)\n",
		r.Campaign, r.Report, r.Campaign, r.State, r.Env, len(r.Keys), size(r.Bytes), kept)
	if r.Record != "" {
		fmt.Fprintf(w, "this host's start record %s notes it as freed: status, doctor and send say so\n", r.Record)
	}
}

// size is ", about N bytes" as MEMORY USAGE estimates them, "" when not
// known (n < 0).
func size(n int64) string {
	if n < 0 {
		return ""
	}
	return fmt.Sprintf(", about %d bytes", n)
}
