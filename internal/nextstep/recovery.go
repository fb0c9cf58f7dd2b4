package nextstep

import (
	"cmp"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/tidings-mail/tidings/internal/launch"
)

// SendRun is how a send was run: enough to print the same send, to be
// pasted as it is from any directory (Command makes its paths absolute
// and quotes them for a POSIX shell when they need it).
type SendRun struct {
	File, Env string // "" for the operator to fill in (CAMPAIGN-FILE, ENV)
	// Options are those its start record keeps (nil: not known).
	Options *launch.SendOptions
	// ResumeExisting, Exclude (the --exclude-delivered paths) and
	// Confirm (--confirm) are the rest of a send's flags that decide what
	// it stages.
	ResumeExisting bool
	Exclude        []string
	// NoneDelivered is --none-delivered (launch.Options.NoneDelivered).
	NoneDelivered bool
	Confirm       string
	// Suppress are the --suppress paths (suppression lists beside the
	// environment's): a send run again without them would mail the
	// people on them.
	Suppress []string
}

// Command is r as a command line.
func (r SendRun) Command() string {
	path := func(p, placeholder string) string { return shellQuote(cmp.Or(launch.Abs(p), placeholder)) }
	args := []string{"tidings", "send", path(r.File, "CAMPAIGN-FILE"), "--env", shellQuote(cmp.Or(r.Env, "ENV"))}
	if r.ResumeExisting {
		args = append(args, "--resume-existing")
	}
	for _, p := range r.Exclude {
		args = append(args, "--exclude-delivered", path(p, "JOURNAL_DIR"))
	}
	if r.NoneDelivered {
		args = append(args, "--none-delivered")
	}
	for _, p := range r.Suppress {
		args = append(args, "--suppress", path(p, "FILE"))
	}
	args = append(args, optionArgs(r.Options)...)
	if r.Confirm != "" {
		args = append(args, "--confirm", shellQuote(r.Confirm))
	}
	return strings.Join(args, " ")
}

// optionArgs are the flags of a send run with o (nil: none), its paths
// absolute and quoted.
func optionArgs(o *launch.SendOptions) []string {
	var args []string
	if o == nil {
		return nil
	}
	if o.SkipRefused {
		args = append(args, "--skip-refused")
	}
	if o.SkipInvalid {
		args = append(args, "--skip-invalid")
	}
	if o.Rejects != "" {
		args = append(args, "--rejects", shellQuote(launch.Abs(o.Rejects)))
	}
	return args
}

// notRecorded follows a command of a send whose options this host did not
// record (a record of an older version, or none).
const notRecorded = " (add the flags the first send had, among --skip-refused, --skip-invalid and --rejects FILE: this host did not record them)"

// Recovery is the send that stages campaign file again in environment env
// after Redis lost it, without anyone the delivery journals in journalDir
// record as delivered (nor those earlier recoveries on this host excluded:
// send reads their list by itself), run as the send that started it was:
// with the campaign file and options its start record rec keeps
// (launch.Record's CampaignFile and Send). When the options are not
// known (no record, or one of an older version) it says which flags to
// add again. An empty file is the record's; empty still, or an empty env
// or journalDir, it is a placeholder for the operator to fill in. `send`'s
// refusal (StateLost), `status` and `doctor` say it.
func Recovery(file, env, journalDir string, rec *launch.Record) string {
	return SendRun{File: file, Env: env, Exclude: []string{journalDir}}.recorded(rec)
}

// recorded is r run as the send its start record rec keeps was (nil: not
// known, so it says which flags to add again): r.File, when empty, is
// the record's.
func (r SendRun) recorded(rec *launch.Record) string {
	if rec != nil {
		r.File, r.Options = cmp.Or(r.File, rec.CampaignFile), rec.Send
	}
	if r.Options == nil {
		return r.Command() + notRecorded
	}
	return r.Command()
}

// shellQuote is s as a POSIX shell reads it back: as it is when it holds
// only characters no shell treats specially, else in single quotes.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:=@%+-,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// stateLostText explains a campaign whose state Redis lost, and exactly
// what to run next (StateLost's data).
var stateLostText = template.Must(template.New("").Parse(`campaign {{printf "%q" .Campaign}} was started in environment {{.Env}} before
{{- with .Record}} (run {{.Run}}, {{.StartedAt.Format "2006-01-02T15:04:05Z07:00"}} by {{.By}} on {{.Host}}; record {{.Path}}){{end -}}
, but Redis has no trace of it: Redis lost its state (flushed, evicted, replaced by an empty instance, or restored from a backup older than the campaign). Nothing was staged.
{{- with .CampaignJournal}} This machine's delivery journal holds {{$.Journals}} file(s) of it in {{.}}.{{end}}
{{- with .Excluded}} Earlier recoveries made here excluded {{$.ExcludedN}} recipient(s) as delivered, some maybe recorded in a report only: they are listed in {{.}}, which step 2 reads by itself on this machine (on another, copy it there and add it to step 2).{{end}}
To send to everyone not yet delivered, and to nobody twice:
  1. stop its workers{{if .JournalMissing}}; this machine has no {{.JournalDir}}/{{.Campaign}}/ yet: mkdir -p {{.MakeDir}}; then{{else}} and{{end}} copy the journal files of every other worker host, and of every host that made a recovery of it (<journal dir>/{{.Campaign}}/ on each) into {{or .JournalDir "JOURNAL_DIR"}}/{{.Campaign}}/;
  2. {{.Recovery}}
     (only if every journal is gone: a report saved before the loss, --exclude-delivered report.csv)
{{- if .NoneDelivered}}
--none-delivered is refused: this machine's journal or earlier recoveries here record deliveries of it; run the steps above.
{{- else if not .CampaignJournal}}
If no worker host has a <journal dir>/{{.Campaign}}/ (no worker ever sent it), run instead of steps 1 and 2:
  {{.NoneCommand}}{{end}}`))

// StateLost is send's refusal of campaign file in environment env, whose
// state Redis lost (e): what happened, and exactly what to run next.
func StateLost(e *launch.StateLostError, file, env string) string {
	if rec := FreedRecord(e.Record, e.NotFound); rec != nil && rec.Freed != nil { // freed (on any host: its audit entry), not lost
		freed := *e
		freed.Record = rec
		return stateLostFreed(&freed, file, env)
	}
	var b strings.Builder
	_ = stateLostText.Execute(&b, struct {
		*launch.StateLostError
		Env, Recovery, MakeDir, NoneCommand string
	}{e, env, Recovery(file, env, e.JournalDir, e.Record), shellQuote(launch.Abs(filepath.Join(e.JournalDir, e.Campaign))), NoneDelivered(file, env, e.Record)})
	return b.String()
}

// NoneDelivered is the send that stages campaign file again in
// environment env after Redis lost it when no worker ever sent it
// (--none-delivered), run as the send that started it (Recovery).
func NoneDelivered(file, env string, rec *launch.Record) string {
	return SendRun{File: file, Env: env, NoneDelivered: true}.recorded(rec)
}

// Excluding words err, the deliveries to exclude of the send run as r
// refused, with exactly what to run next: for a journal directory that
// holds none of the campaign (*launch.NoJournalError), the same send once
// the journals are copied, or the send saying no worker ever sent it.
func Excluding(err error, r SendRun) error {
	var e *launch.NoJournalError
	if !errors.As(err, &e) {
		return err
	}
	none := r
	none.Exclude, none.NoneDelivered = nil, true
	return fmt.Errorf("%w.\n  Once the journals are copied, run again: %s\n  If no worker ever sent it, run instead:  %s", err, r.Command(), none.Command())
}
