package launch_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/text/unicode/norm"

	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/csvcell"
	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/journal/journaltest"
	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/locales"
	"github.com/tidings-mail/tidings/templates"
)

const campaignYAML = `name: launch-test
environment: test
template: welcome
default_locale: en
recipients: recipients.csv
from: "Altea <community@altea.example>"
batches:
  canary_per_locale: 1
  size: 2
data:
  reregister_url: "https://altea.example/re"
`

const recipientsCSV = `email,name,locale,posts
ada@x.example,Ada,en,1
josé@x.example,José,es,2
zoe@x.example,Zoë,fr,3
uli@x.example,Uli,de,4
bob@x.example,Bob,en,5
eve@x.example,Eve,en,6
`

func input(t *testing.T, excl *launch.Delivered) launch.Input {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "recipients.csv")
	if err := os.WriteFile(path, []byte(recipientsCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := campaign.Parse([]byte(campaignYAML), filepath.Join(dir, "c.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := render.New(render.Config{Templates: templates.FS, Locales: locales.FS, Template: c.Template, DefaultLocale: c.DefaultLocale})
	if err != nil {
		t.Fatal(err)
	}
	return launch.Input{Campaign: c, Engine: eng, Templates: templates.FS, Locales: locales.FS, EnvName: "test",
		Recipients: path, Who: "tester", Host: "box", Exclude: excl}
}

// TestStageThePlansBatches: the staging follows the plan's layout (canary
// of one per language, then batches of 2), and records the start.
func TestStageThePlansBatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(redistest.Start(t).Client())
	p, err := launch.Plan(ctx, input(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary.Accepted != 6 || p.Summary.Batches.Canary != 4 || p.Summary.Batches.Count != 1 {
		t.Fatalf("plan %+v", p.Summary.Batches)
	}
	state := t.TempDir()
	res, err := p.Stage(ctx, st, launch.Options{Start: true, StateDir: state})
	if err != nil {
		t.Fatal(err)
	}
	meta, _ := st.Meta(ctx, "launch-test", false)
	bs := meta.Batches
	if len(bs) != 2 || !bs[0].Canary || bs[0].Size != 4 || bs[1].Size != 2 {
		t.Fatalf("staged batches %+v, want the plan's: canary of 4, then 2", bs)
	}
	rec, err := launch.ReadRecord(state, "launch-test")
	if err != nil || rec == nil || rec.Run != res.Run || rec.Stage != res.Stage || res.Record != rec.Path {
		t.Fatalf("record %+v (%v), result %+v", rec, err, res)
	}
}

// TestAnInterruptedStagingSaysSo: a send interrupted (Ctrl-C) while it
// stages says which campaign's staging did not end and what that means
// (*launch.InterruptedError, still context.Canceled for the exit code);
// it said "interrupted" and nothing more. The same staging run again
// stages the campaign.
func TestAnInterruptedStagingSaysSo(t *testing.T) {
	t.Parallel()
	st := store.New(redistest.Start(t).Client())
	p, err := launch.Plan(context.Background(), input(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	_, err = p.Stage(ctx, st, launch.Options{Start: true, Progress: func() {
		if n++; n == 2 {
			cancel() // Ctrl-C
		}
	}})
	var ie *launch.InterruptedError
	if !errors.As(err, &ie) || ie.Campaign != "launch-test" || !errors.Is(err, context.Canceled) ||
		!strings.Contains(err.Error(), `interrupted while staging campaign "launch-test": its staging did not end, so no worker sends it and only a pause acts on it`) {
		t.Fatalf("interrupted staging: %v, want a *launch.InterruptedError that is context.Canceled", err)
	}
	if res, err := p.Stage(context.Background(), st, launch.Options{Start: true}); err != nil || res.Staged != 6 || res.State != store.StateRunning {
		t.Fatalf("the staging run again: %+v %v, want 6 staged and running", res, err)
	}
}

// started stages and starts the test campaign with a state directory and
// a journal directory, as send does, and returns them with what Stage did.
func started(t *testing.T) (r *redistest.Redis, st *store.Store, state, jdir string, first *launch.Result) {
	t.Helper()
	r = redistest.Start(t)
	st = store.New(r.Client())
	state, jdir = t.TempDir(), t.TempDir()
	p, err := launch.Plan(context.Background(), input(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if first, err = p.Stage(context.Background(), st, launch.Options{Start: true, StateDir: state, JournalDir: jdir}); err != nil {
		t.Fatal(err)
	}
	return r, st, state, jdir, first
}

// TestStateLost: a campaign this machine started but Redis does not know is
// refused, with what the record says; excluding the deliveries lets it
// through as a new run that continues the old one.
func TestStateLost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, st, state, jdir, first := started(t)
	// A worker delivered two, then Redis lost everything.
	journaltest.Write(t, jdir, "w1",
		journal.Entry{Campaign: "launch-test", Run: first.Run, ID: "ada@x.example", Email: "ada@x.example", Outcome: "sent"},
		journal.Entry{Campaign: "launch-test", Run: first.Run, ID: "other-id", Email: norm.NFD.String("JOSÉ@X.example"), Outcome: "in-doubt"},
		journal.Entry{Campaign: "launch-test", Run: first.Run, ID: "zoe@x.example", Email: "zoe@x.example", Outcome: "failed"},
		// Zoe claimed again (a retry), and the worker died before her
		// outcome's line: she may have received it.
		journal.Entry{Campaign: "launch-test", Run: first.Run, ID: "zoe@x.example", Email: "zoe@x.example", Outcome: journal.OutcomeClaimed})
	if err := r.Wipe(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := launch.Plan(ctx, input(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, resume := range []bool{false, true} {
		_, err = p.Stage(ctx, st, launch.Options{Start: true, StateDir: state, JournalDir: jdir, ResumeExisting: resume})
		var lost *launch.StateLostError
		if !errors.As(err, &lost) || lost.Record == nil || lost.Record.Run != first.Run || lost.Journals != 1 {
			t.Fatalf("staging after the loss (resume %v): %v, want a StateLostError with the record and the journal", resume, err)
		}
	}
	d, err := launch.LoadDelivered("launch-test", []string{jdir})
	if err != nil {
		t.Fatal(err)
	}
	if d.Sent != 1 || d.InDoubt != 2 || len(d.Runs) != 1 || d.Runs[0] != first.Run {
		t.Fatalf("delivered %+v", d)
	}
	p, err = launch.Plan(ctx, input(t, d))
	if err != nil {
		t.Fatal(err)
	}
	// José matches through his mailbox identity (NFD, upper case), not his id.
	if p.Summary.Skipped != 3 || p.Summary.Accepted != 3 {
		t.Fatalf("plan with exclusions: %d skipped, %d accepted; want 3 and 3", p.Summary.Skipped, p.Summary.Accepted)
	}
	again, err := p.Stage(ctx, st, launch.Options{Start: true, StateDir: state, JournalDir: jdir})
	if err != nil {
		t.Fatal(err)
	}
	meta, err := st.Meta(ctx, "launch-test", false)
	if err != nil {
		t.Fatal(err)
	}
	if again.Run == first.Run || len(meta.ExcludedRuns) != 1 || !strings.HasPrefix(meta.ExcludedRuns[0], first.Run+".w1@") {
		t.Fatalf("new run %s (first %s), excluded %v", again.Run, first.Run, meta.ExcludedRuns)
	}
	s, _ := st.Status(ctx, "launch-test")
	if s.Counts[store.OutcomeSkipped] != 3 || s.Staged != 3 {
		t.Fatalf("status after recovery: %v, staged %d", s.Counts, s.Staged)
	}
}

// TestLoadDeliveredReports: reports written by tidings report (CSV and
// JSON) are read too; anything else is refused with what to give.
func TestLoadDeliveredReports(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	csv := filepath.Join(dir, "report.csv")
	_ = os.WriteFile(csv, []byte("line,id,email,locale,lang,outcome\n2,a,a@x.example,en,en,sent\n3,b,b@x.example,en,en,failed\n4,c,c@x.example,en,en,in-doubt\n"), 0o644)
	js := filepath.Join(dir, "report.json")
	_ = os.WriteFile(js, []byte(`{"campaign":"c","recipients":[{"id":"d","email":"d@x.example","outcome":"sent"},{"id":"a","email":"a@x.example","outcome":"sent"}]}`), 0o644)
	d, err := launch.LoadDelivered("c", []string{csv, js})
	if err != nil {
		t.Fatal(err)
	}
	if d.Sent != 2 || d.InDoubt != 1 {
		t.Fatalf("delivered %d sent, %d in doubt; want 2 and 1 (a counted once)", d.Sent, d.InDoubt)
	}
	if _, ok := d.Match("b", "b@x.example"); ok {
		t.Error("a failed recipient is excluded")
	}
	if how, ok := d.Match("zzz", "C@X.EXAMPLE"); !ok || !strings.Contains(how, "in-doubt") {
		t.Errorf("match by address: %q %v", how, ok)
	}
	other := filepath.Join(dir, "other.json")
	_ = os.WriteFile(other, []byte(`{"campaign":"someone-else","recipients":[]}`), 0o644)
	if _, err := launch.LoadDelivered("c", []string{other}); err == nil {
		t.Error("the report of another campaign was accepted")
	}
	if _, err := launch.LoadDelivered("c", []string{filepath.Join(dir, "x.txt")}); err == nil {
		t.Error("a missing file was accepted")
	}
}

// TestLoadDeliveredRefusesAnotherCampaignsJournal: another campaign's
// journal directory or file, given for this one's, is refused naming the
// campaign it records: read as this one's it records nobody, so nobody
// would be excluded and everyone delivered before mailed again.
func TestLoadDeliveredRefusesAnotherCampaignsJournal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, c := range []string{"c", "other"} {
		journaltest.Write(t, dir, "w1", journal.Entry{Campaign: c, Run: "r1", ID: "a", Email: "a@x.example", Outcome: "sent"})
	}
	for _, p := range []string{filepath.Join(dir, "other"), filepath.Join(dir, "other", "r1.w1.jsonl")} {
		_, err := launch.LoadDelivered("c", []string{p})
		if _, ok := errors.AsType[*journal.CampaignError](err); !ok || !strings.Contains(err.Error(), "of campaign other, not of c: give the journal directory "+dir) {
			t.Errorf("exclude %s for c: %v, want a *journal.CampaignError naming other and %s", p, err, dir)
		}
	}
}

// TestLoadDeliveredReportOfARecovery: the report of a campaign resumed
// after a state loss lists the recipients that recovery skipped as already
// delivered (skipped, already-delivered, how in the response). A second
// recovery from that report excludes them too: they received the message
// in the first run.
func TestLoadDeliveredReportOfARecovery(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	csv := filepath.Join(dir, "report.csv")
	_ = os.WriteFile(csv, []byte("line,id,email,locale,lang,outcome,code,response\n"+
		"2,a,a@x.example,en,en,skipped,already-delivered,sent according to j.jsonl\n"+
		"3,b,b@x.example,en,en,skipped,already-delivered,in-doubt according to j.jsonl\n"+
		"4,c,c@x.example,en,en,skipped,not-allowed-in-staging,\n"+
		"5,d,d@x.example,en,en,sent,250,ok\n"), 0o644)
	js := filepath.Join(dir, "report.json")
	_ = os.WriteFile(js, []byte(`{"campaign":"c","recipients":[{"id":"e","email":"e@x.example","outcome":"skipped","code":"already-delivered","response":"sent according to j.jsonl"}]}`), 0o644)
	d, err := launch.LoadDelivered("c", []string{csv, js})
	if err != nil {
		t.Fatal(err)
	}
	if d.Sent != 3 || d.InDoubt != 1 {
		t.Errorf("delivered %d sent, %d in doubt; want 3 (a, d, e) and 1 (b)", d.Sent, d.InDoubt)
	}
	for _, id := range []string{"a", "b", "d", "e"} {
		if _, ok := d.Match(id, ""); !ok {
			t.Errorf("%s, delivered in an earlier run, is not excluded", id)
		}
	}
	if _, ok := d.Match("c", "c@x.example"); ok {
		t.Error("a row skipped for another reason is excluded as delivered")
	}
}

// TestRecoveryFromAReportLeavesTheJournalsChecked: excluding the
// deliveries a report lists does not vouch for the journals nobody read (the
// report may predate the last deliveries): the new staging excludes no
// journal, so a worker whose journal holds deliveries of the lost run still
// refuses it. Before, the run of this machine's record was excluded whole.
func TestRecoveryFromAReportLeavesTheJournalsChecked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, st, state, jdir, first := started(t)
	journaltest.Write(t, jdir, "w1",
		journal.Entry{Campaign: "launch-test", Run: first.Run, ID: "ada@x.example", Email: "ada@x.example", Outcome: "sent"},
		journal.Entry{Campaign: "launch-test", Run: first.Run, ID: "zoe@x.example", Email: "zoe@x.example", Outcome: "sent"})
	if err := r.Wipe(ctx); err != nil {
		t.Fatal(err)
	}
	p := planExcluding(t, "line,id,email,outcome\n2,ada@x.example,ada@x.example,sent\n") // a report saved before zoe was sent
	if _, err := p.Stage(ctx, st, launch.Options{Start: true, StateDir: state, JournalDir: jdir}); err != nil {
		t.Fatal(err)
	}
	meta, err := st.Meta(ctx, "launch-test", false)
	if err != nil {
		t.Fatal(err)
	}
	unknown, err := journal.UnknownRuns(jdir, "launch-test", append([]string{meta.Run}, meta.ExcludedRuns...))
	if err != nil {
		t.Fatal(err)
	}
	if len(unknown) != 1 || unknown[0] != first.Run {
		t.Fatalf("excluded %v: the worker's journal of run %s counts as read (unknown runs %v); zoe would be sent twice", meta.ExcludedRuns, first.Run, unknown)
	}
}

// TestReportOfAnotherCampaignIsRefused: a CSV report names no campaign, so
// one of another campaign can be given by mistake. When none of the
// deliveries it records is a recipient, staging would exclude nobody and
// mail this campaign's own earlier deliveries again: it is refused and
// nothing is staged.
func TestReportOfAnotherCampaignIsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(redistest.Start(t).Client())
	p := planExcluding(t, "line,id,email,outcome\n2,k1,kim@elsewhere.example,sent\n3,k2,lee@elsewhere.example,sent\n")
	_, err := p.Stage(ctx, st, launch.Options{Start: true})
	var ue *launch.UnmatchedExclusionError
	if !errors.As(err, &ue) || ue.Delivered != 2 || !strings.Contains(err.Error(), "none of the 2 recipients that ") || !strings.Contains(err.Error(), "report.csv record as delivered") {
		t.Fatalf("stage with another campaign's report: %v, want an UnmatchedExclusionError", err)
	}
	if _, err := st.Meta(ctx, "launch-test", false); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after the refusal: %v, want nothing staged", err)
	}
	// One match is enough: a report of this campaign's recipients.
	p = planExcluding(t, "line,id,email,outcome\n2,k1,kim@elsewhere.example,sent\n3,ada,ada@x.example,sent\n")
	if _, err := p.Stage(ctx, st, launch.Options{Start: true}); err != nil {
		t.Errorf("stage with a report that names one recipient: %v", err)
	}
}

// TestCSVReportNamesItsCampaign: a CSV report records its campaign on every
// row (report.Columns, report.JournalColumns); one of another campaign that
// shares recipients with this one is refused with its file, line and field
// before anything is planned, where the match on recipients alone would let
// it skip them. A report written before the column is read as before.
func TestCSVReportNamesItsCampaign(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, csv, wantErr string
	}{
		{"this campaign's", "id,email,outcome,campaign\nada,ada@x.example,sent,c\n", ""},
		{"another campaign's", "id,email,outcome,campaign\nada,ada@x.example,sent,c\nbob,bob@x.example,sent,other\n",
			"report.csv:3: campaign: the row of campaign other, not c: give a report or journal of c"},
		{"without the column", "id,email,outcome\nada,ada@x.example,sent\n", ""},
		{"a plan's rejects file of another campaign", "line,id,email,locale,outcome,code,field,reason,campaign\n2,ada,ada@x.example,en,skipped,already-delivered,,sent according to j.jsonl,other\n",
			"report.csv:2: campaign: the row of campaign other, not c"},
		{"a plan's rejects file of this campaign", "line,id,email,locale,outcome,code,field,reason,campaign\n2,ada,ada@x.example,en,skipped,already-delivered,,in-doubt according to j.jsonl,c\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "report.csv")
			if err := os.WriteFile(path, []byte(tt.csv), 0o644); err != nil {
				t.Fatal(err)
			}
			d, err := launch.LoadDelivered("c", []string{path})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("LoadDelivered: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("LoadDelivered: %v, want an error containing %q", err, tt.wantErr)
			case tt.wantErr == "" && d.Len() != 1:
				t.Errorf("%d deliveries read, want 1", d.Len())
			case strings.Contains(tt.csv, "in-doubt according") && d.InDoubt != 1:
				t.Errorf("%d in doubt, want 1: a rejects file's reason says in-doubt", d.InDoubt)
			}
		})
	}
}

// TestLoadDeliveredReadsDefusedCells: report CSVs quote cells a
// spreadsheet would run as formulas (report.Cell); reading one back
// matches the recipients as they are, so nobody is mailed twice for
// having an address that starts with - or =.
func TestLoadDeliveredReadsDefusedCells(t *testing.T) {
	t.Parallel()
	csv := filepath.Join(t.TempDir(), "report.csv")
	body := "line,id,email,outcome\n" +
		"2," + csvcell.Cell("=1+1") + "," + csvcell.Cell("-dash@x.example") + ",sent\n" +
		"3,plain," + csvcell.Cell("+plus@x.example") + ",in-doubt\n"
	_ = os.WriteFile(csv, []byte(body), 0o644)
	d, err := launch.LoadDelivered("c", []string{csv})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ id, email string }{{"=1+1", ""}, {"", "-dash@x.example"}, {"", "+plus@x.example"}} {
		if _, ok := d.Match(tt.id, tt.email); !ok {
			t.Errorf("id %q email %q, delivered per the report, is not excluded", tt.id, tt.email)
		}
	}
}

// TestLoadDeliveredKeepsEveryMailbox: a recipient journaled twice under two
// addresses (the address changed between two runs) is counted once, and
// both mailboxes are excluded: a new file with either address under
// another id is not mailed again.
func TestLoadDeliveredKeepsEveryMailbox(t *testing.T) {
	t.Parallel()
	csv := filepath.Join(t.TempDir(), "report.csv")
	_ = os.WriteFile(csv, []byte("line,id,email,outcome\n2,u1,old@x.example,sent\n3,u1,new@x.example,sent\n4,u2,b@x.example,in-doubt\n5,u3,b@x.example,sent\n"), 0o644)
	d, err := launch.LoadDelivered("c", []string{csv})
	if err != nil {
		t.Fatal(err)
	}
	if d.Sent != 2 || d.InDoubt != 0 {
		t.Errorf("delivered %d sent, %d in doubt; want 2 (u1 once, b@ upgraded to sent) and 0", d.Sent, d.InDoubt)
	}
	for _, tt := range []struct{ id, email string }{{"other", "new@x.example"}, {"other", "old@x.example"}, {"u3", ""}, {"u2", ""}} {
		if _, ok := d.Match(tt.id, tt.email); !ok {
			t.Errorf("id %q email %q is not excluded", tt.id, tt.email)
		}
	}
	// A line linking a sent mailbox to an id in doubt, then that id sent
	// elsewhere: one recipient, counted once, never below zero.
	_ = os.WriteFile(csv, []byte("line,id,email,outcome\n2,u1,a@x.example,sent\n3,u2,a@x.example,in-doubt\n4,u2,b@x.example,sent\n"), 0o644)
	if d, err = launch.LoadDelivered("c", []string{csv}); err != nil {
		t.Fatal(err)
	}
	if d.Sent != 1 || d.InDoubt != 0 {
		t.Errorf("delivered %d sent, %d in doubt; want 1 and 0", d.Sent, d.InDoubt)
	}
	if _, ok := d.Match("", "b@x.example"); !ok {
		t.Error("b@x.example is not excluded")
	}
}

// planExcluding plans the test campaign excluding the deliveries of a CSV
// report with content report.
func planExcluding(t *testing.T, report string) *launch.Planned {
	t.Helper()
	path := filepath.Join(t.TempDir(), "report.csv")
	if err := os.WriteFile(path, []byte(report), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := launch.LoadDelivered("launch-test", []string{path})
	if err != nil {
		t.Fatal(err)
	}
	p, err := launch.Plan(context.Background(), input(t, d))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestEveryRowLeftOut: when the options allow leaving out refused and
// invalid rows and every row is one of them, the send stops with no
// recipient, and the error says how many of each kind there were.
func TestEveryRowLeftOut(t *testing.T) {
	t.Parallel()
	in := input(t, nil)
	if err := os.WriteFile(in.Recipients, []byte("email,name,locale,posts\nada@x.example,Ada,zz,1\nbob@x.example,Bob,qq,2\nnot-an-address,Eve,en,3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := launch.Plan(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	err = p.Check(launch.Options{SkipRefused: true, SkipInvalid: true})
	if !errors.Is(err, launch.ErrNoRecipient) || !strings.Contains(err.Error(), "every row was left out: 2 refused, 1 invalid") {
		t.Errorf("check: %v, want no recipient, 2 refused and 1 invalid", err)
	}
}

// TestResumeExistingAfterARecovery: after a recovery from a report (ada
// skipped as already delivered), re-staging the campaign with
// --resume-existing and no exclusions (a template fix, say) keeps ada
// skipped, and keeps the run and the runs it excluded.
func TestResumeExistingAfterARecovery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, st, state, jdir, _ := started(t)
	if err := r.Wipe(ctx); err != nil { // Redis lost the campaign
		t.Fatal(err)
	}
	p := planExcluding(t, "line,id,email,outcome\n2,ada@x.example,ada@x.example,sent\n")
	rec, err := p.Stage(ctx, st, launch.Options{Start: true, StateDir: state, JournalDir: jdir})
	if err != nil {
		t.Fatal(err)
	}
	pauseForAFix(t, st)
	p2, err := launch.Plan(ctx, input(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	res, err := p2.Stage(ctx, st, launch.Options{Start: true, StateDir: state, JournalDir: jdir, ResumeExisting: true})
	if err != nil {
		t.Fatal(err)
	}
	meta, err := st.Meta(ctx, "launch-test", false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Run != rec.Run || fmt.Sprint(meta.ExcludedRuns) != "[none]" || res.Kept != 1 {
		t.Errorf("re-staged run %s (recovery's %s), excluded runs %v, kept %d; want the recovery's run, its exclusions, ada kept", res.Run, rec.Run, meta.ExcludedRuns, res.Kept)
	}
	var ada store.Row
	if err := st.Report(ctx, "launch-test", func(row store.Row) error {
		if row.Email == "ada@x.example" {
			ada = row
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if ada.Outcome != store.OutcomeSkipped {
		t.Errorf("ada, delivered before the loss: %+v, want skipped (she would be mailed twice)", ada)
	}
}

// TestPlanRefusesLiteralProse: a template with text outside message keys
// would send that text to every language as it is; plan (and so send)
// refuses it, naming the file the operator can open and the line, before
// a row is read.
func TestPlanRefusesLiteralProse(t *testing.T) {
	t.Parallel()
	in := input(t, nil)
	tfs := fstest.MapFS{}
	for _, f := range []string{"subject.tmpl", "html.tmpl", "text.tmpl"} {
		b, err := fs.ReadFile(templates.FS, "welcome/"+f)
		if err != nil {
			t.Fatal(err)
		}
		tfs["welcome/"+f] = &fstest.MapFile{Data: b}
	}
	html := string(tfs["welcome/html.tmpl"].Data)
	i := strings.Index(html, "<body")
	if i < 0 {
		t.Fatal("the welcome template has no <body>")
	}
	line := strings.Count(html[:i], "\n") + 1
	tfs["welcome/html.tmpl"].Data = []byte(html[:i] + "<p>Your password has been reset</p>\n" + html[i:])
	eng, err := render.New(render.Config{Templates: tfs, Locales: locales.FS, Template: "welcome", DefaultLocale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	in.Engine, in.Templates = eng, tfs
	in.Recipients = filepath.Join(t.TempDir(), "absent.csv") // never read
	_, err = launch.Plan(context.Background(), in)
	var pe *launch.ProseError
	if !errors.As(err, &pe) {
		t.Fatalf("Plan: %v, want a *launch.ProseError", err)
	}
	c := in.Campaign
	want := fmt.Sprintf("%s:%d: literal text %q", filepath.Join(c.Path(c.TemplatesDir), "welcome", "html.tmpl"), line, "Your password has been reset")
	if len(pe.Problems) != 1 || !strings.HasPrefix(pe.Problems[0].String(), want) {
		t.Fatalf("problems %q, want one starting %q", pe.Problems, want)
	}
	for _, s := range []string{"template welcome has 1 text(s) outside message keys", "every language untranslated", "nothing was planned or staged", want} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
	// The catalog to put the text in is named as the operator can open it.
	if cat := filepath.Join(c.Path(c.LocalesDir), "en.toml"); !strings.Contains(pe.Problems[0].Msg, "with the text in "+cat+" and every other catalog") {
		t.Errorf("message %q does not name the default catalog %s", pe.Problems[0].Msg, cat)
	}
}

// TestRecordKeepsTheRejectsPathAbsolute: the start record keeps the
// --rejects path the send was given as an absolute path, so that the
// recovery command status, doctor and a refused send print from it
// (nextstep.Recovery) writes the rejects file where the first send did,
// from whatever directory it is pasted in. Kept as typed ("rejects.csv"),
// it named a file relative to wherever the operator then stood.
func TestRecordKeepsTheRejectsPathAbsolute(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := store.New(redistest.Start(t).Client())
	p, err := launch.Plan(ctx, input(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	if _, err := p.Stage(ctx, st, launch.Options{Start: true, StateDir: state, Rejects: filepath.Join("out", "rejects.csv")}); err != nil {
		t.Fatal(err)
	}
	want, _ := filepath.Abs(filepath.Join("out", "rejects.csv"))
	rec, err := launch.ReadRecord(state, "launch-test")
	if err != nil || rec == nil || rec.Send == nil || rec.Send.Rejects != want {
		t.Fatalf("record %+v (%v): want the rejects path %s", rec, err, want)
	}
}
