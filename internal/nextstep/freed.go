package nextstep

import (
	"cmp"
	"fmt"
	"time"

	"github.com/tidings-mail/tidings/internal/launch"
)

// Freed says that campaign c of environment env, which this host started
// (its start record rec), was freed by `tidings free` (rec.Freed): Redis
// keeps its ledger and audit log only, which is no state loss; and how to
// send it again. Lost says it in its place for a freed campaign:
// `tidings status`, every command naming c, the console's pages of c.
func Freed(c, env string, rec *launch.Record) string {
	return fmt.Sprintf("campaign %q in environment %s %s; to send it again, to those not sent and to nobody twice: %s", c, cmp.Or(env, "ENV"), freedBy(rec), sendFreed(env, rec))
}

// freedBy says who freed the campaign of rec when, and what Redis keeps.
func freedBy(rec *launch.Record) string {
	f := rec.Freed
	saved := ""
	if f.Report != "" {
		saved = fmt.Sprintf("; its report was saved to %s", f.Report)
	}
	return fmt.Sprintf("was freed by 'tidings free' at %s (by %s): Redis keeps its ledger (%d recipients) and audit log, nothing else, with no expiry, so that a send of it again mails none of those the ledger records as sent%s", f.At.UTC().Format(time.RFC3339), f.By, f.Ledger, saved)
}

// sendFreed is the send of the campaign of rec again once freed,
// excluding those its saved report lists as delivered: the ledger
// protects by recipient id, the report by mailbox too.
func sendFreed(env string, rec *launch.Record) string {
	return SendRun{Env: env, Exclude: []string{cmp.Or(rec.Freed.Report, "REPORT")}}.recorded(rec)
}

// stateLostFreed is send's refusal of a campaign freed by `tidings free`
// (e.Record.Freed), staged as new: what happened, and what to run.
func stateLostFreed(e *launch.StateLostError, file, env string) string {
	r := SendRun{File: file, Env: env, Exclude: []string{cmp.Or(e.Record.Freed.Report, "REPORT")}}
	return fmt.Sprintf("campaign %q in environment %s %s. Nothing was staged. To send it again, to those not sent and to nobody twice (the ledger keeps its outcomes by recipient id; the report saved before the free names the mailboxes delivered): %s", e.Campaign, env, freedBy(e.Record), r.recorded(e.Record))
}
