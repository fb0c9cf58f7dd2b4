package nextstep

import (
	"cmp"
	"strings"
	"text/template"

	"github.com/tidings-mail/tidings/internal/launch"
)

// Recovery is the send that stages campaign file again in environment env
// after Redis lost it, without anyone the delivery journals in journalDir
// record as delivered (nor those earlier recoveries on this host excluded:
// send reads their list by itself), run as the send that started it was:
// with the options its start record rec keeps (launch.SendOptions). When
// they are not known (no record, or one of an older version) it says which
// flags to add again. Paths are quoted for a POSIX shell when they need
// it, so that the command can be pasted as it is. An empty file, env or
// journalDir is a placeholder for the operator to fill in. `send`'s
// refusal (StateLost), `status` and `doctor` say it.
func Recovery(file, env, journalDir string, rec *launch.Record) string {
	args := []string{"tidings", "send", shellQuote(cmp.Or(file, "CAMPAIGN-FILE")), "--env", cmp.Or(env, "ENV"),
		"--exclude-delivered", shellQuote(cmp.Or(journalDir, "JOURNAL_DIR"))}
	if rec == nil || rec.Send == nil {
		return strings.Join(args, " ") + " (add the flags the first send had, among --skip-refused, --skip-invalid and --rejects FILE: this host did not record them)"
	}
	o := rec.Send
	if o.SkipRefused {
		args = append(args, "--skip-refused")
	}
	if o.SkipInvalid {
		args = append(args, "--skip-invalid")
	}
	if o.Rejects != "" {
		args = append(args, "--rejects", shellQuote(o.Rejects))
	}
	return strings.Join(args, " ")
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
  1. stop its workers and copy the journal files of every other worker host, and of every host that made a recovery of it (<journal dir>/{{.Campaign}}/ on each) into {{or .JournalDir "JOURNAL_DIR"}}/{{.Campaign}}/;
  2. {{.Recovery}}
     (only if every journal is gone: a report saved before the loss, --exclude-delivered report.csv)`))

// StateLost is send's refusal of campaign file in environment env, whose
// state Redis lost (e): what happened, and exactly what to run next.
func StateLost(e *launch.StateLostError, file, env string) string {
	var b strings.Builder
	_ = stateLostText.Execute(&b, struct {
		*launch.StateLostError
		Env, Recovery string
	}{e, env, Recovery(file, env, e.JournalDir, e.Record)})
	return b.String()
}
