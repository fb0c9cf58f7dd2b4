package report_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/demo"
	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/report"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
	"github.com/tidings-mail/tidings/worker"
)

// afterCounts is a go-redis hook that calls fn once, right after the first
// pipeline that read a campaign's counts hash has been answered.
type afterCounts struct {
	fn    func()
	fired atomic.Bool
}

func (h *afterCounts) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *afterCounts) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return next
}

func (h *afterCounts) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, c := range cmds {
			args := c.Args()
			if len(args) > 1 && strings.EqualFold(c.Name(), "hgetall") && strings.HasSuffix(args[1].(string), ":counts") && h.fired.CompareAndSwap(false, true) {
				h.fn()
			}
		}
		return err
	}
}

// TestJSONReportOfARunningCampaignAgrees: `report --json` while a worker
// sends. Its counts and its rows describe the same moment: every outcome's
// count is the number of rows with that outcome. The counts were read
// (with the status) before the rows were streamed, so messages recorded
// in between showed in the rows and not in the counts (counts 3 sent, rows
// 6 sent). Here the SMTP server lets messages through one at a time, and
// three more are recorded right after the report read the counts hash.
func TestJSONReportOfARunningCampaignAgrees(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	r := redistest.Start(t)
	rdb := r.Client()
	s := store.New(rdb)

	b, err := demo.Load(filepath.Join(t.TempDir(), "demo"))
	if err != nil {
		t.Fatal(err)
	}
	camp := *b.Campaign // no interval, no rate, no approval: only the gate below paces it
	camp.Batches.Interval, camp.Batches.ApproveAfterCanary, camp.Rate = 0, false, campaign.Rate{}
	b.Campaign = &camp
	in := b.LaunchInput(nil, "qa", "host", nil)
	in.EnvName = "test"
	planned, err := launch.Plan(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := planned.Stage(ctx, s, launch.Options{SkipRefused: true, SkipInvalid: true, Start: true}); err != nil {
		t.Fatal(err)
	}

	// Each message waits at RCPT TO for a token; done lets every one through.
	gate, done := make(chan struct{}), make(chan struct{})
	srv, err := smtpcapture.Start(context.WithoutCancel(ctx), smtpcapture.Config{Fault: func(string) error {
		select {
		case <-gate:
		case <-done:
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	w, err := worker.New(worker.Config{Redis: rdb, Env: "test", Concurrency: 1, ClaimWindow: 1,
		SMTP: send.Config{Host: srv.Host(), Port: srv.Port(), TLS: send.TLSNone, Timeout: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	stopped := make(chan error, 1)
	go func() { stopped <- w.Run(wctx) }()
	t.Cleanup(func() {
		close(done)
		stop()
		<-stopped
	})

	sent := func() int64 {
		st, err := s.Status(ctx, camp.Name)
		if err != nil {
			t.Fatal(err)
		}
		return st.Counts[store.OutcomeSent]
	}
	// advance lets messages through one at a time until at least n are
	// recorded sent.
	released := 0
	advance := func(n int64) {
		t.Helper()
		for sent() < n {
			gate <- struct{}{}
			released++
			wait.For(t, time.Minute, "the message let through to be accepted", func() bool { return len(srv.Messages()) >= released })
			wait.For(t, time.Minute, "the worker to record it", func() bool { return sent() >= int64(released) })
		}
	}
	advance(3)

	// The report's own client: three more messages are recorded right after
	// it read the counts.
	o := r.Options()
	rc := redis.NewClient(&redis.Options{Addr: o.Addr, Password: o.Password, DB: o.DB})
	t.Cleanup(func() { _ = rc.Close() })
	rc.AddHook(&afterCounts{fn: func() { advance(sent() + 3) }})
	var out bytes.Buffer
	if err := report.Write(ctx, store.New(rc), camp.Name, &out, report.Options{Format: report.FormatJSON}); err != nil {
		t.Fatal(err)
	}
	var got struct {
		State      store.State      `json:"state"`
		Counts     map[string]int64 `json:"counts"`
		Recipients []store.Row      `json:"recipients"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out.String())
	}
	tally := map[string]int64{}
	for _, row := range got.Recipients {
		tally[row.Outcome]++
	}
	if tally[store.OutcomePending] == 0 || tally[store.OutcomeSent] < 6 {
		t.Fatalf("the report is not of a running campaign with 6 sent: rows tally %v", tally)
	}
	for _, oc := range store.Outcomes {
		if got.Counts[oc] != tally[oc] {
			t.Errorf("counts say %d %s, the rows %d (counts %v, rows %v)", got.Counts[oc], oc, tally[oc], got.Counts, tally)
		}
	}
	if _, ok := got.Counts[store.OutcomeInDoubt]; !ok {
		t.Errorf("counts %v do not list every outcome", got.Counts)
	}

	// A filtered report's counts are still of every row: nothing is let
	// through meanwhile, so they are the full report's.
	out.Reset()
	if err := report.Write(ctx, s, camp.Name, &out, report.Options{Format: report.FormatJSON, Outcomes: []string{store.OutcomeSent}}); err != nil {
		t.Fatal(err)
	}
	var filtered struct {
		Counts     map[string]int64 `json:"counts"`
		Recipients []store.Row      `json:"recipients"`
	}
	if err := json.Unmarshal(out.Bytes(), &filtered); err != nil {
		t.Fatalf("filtered report is not JSON: %v\n%s", err, out.String())
	}
	if !maps.Equal(filtered.Counts, got.Counts) || int64(len(filtered.Recipients)) != got.Counts[store.OutcomeSent] {
		t.Errorf("report --outcome sent: counts %v and %d rows, want every row's counts %v and the %d sent", filtered.Counts, len(filtered.Recipients), got.Counts, got.Counts[store.OutcomeSent])
	}
}

// TestJSONReportWithALostChunkSaysSo: counts follow the rows, so the rows
// of a chunk Redis lost are in neither; the report names the lost chunks
// (lost_chunks), and a recovery refuses it as the list of every delivery
// (the status's counts, which it held before, showed the shortfall).
func TestJSONReportWithALostChunkSaysSo(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	r := redistest.Start(t)
	s := store.New(r.Client())
	b, err := demo.Load(filepath.Join(t.TempDir(), "demo"))
	if err != nil {
		t.Fatal(err)
	}
	planned, err := launch.Plan(ctx, b.LaunchInput(nil, "qa", "host", nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := planned.Stage(ctx, s, launch.Options{SkipRefused: true, SkipInvalid: true}); err != nil {
		t.Fatal(err)
	}
	name := b.Campaign.Name
	if n, err := r.Client().Del(ctx, "tidings:{"+name+"}:chunk:0").Result(); err != nil || n != 1 {
		t.Fatalf("delete chunk 0: %d, %v", n, err)
	}
	var out bytes.Buffer
	err = report.Write(ctx, s, name, &out, report.Options{Format: report.FormatJSON})
	if lost := (*store.LostChunksError)(nil); !errors.As(err, &lost) {
		t.Fatalf("report of a campaign with a lost chunk: %v, want a *LostChunksError", err)
	}
	var got struct {
		Counts     map[string]int64 `json:"counts"`
		Recipients []store.Row      `json:"recipients"`
		LostChunks []int            `json:"lost_chunks"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out.String())
	}
	var sum int64
	for _, n := range got.Counts {
		sum += n
	}
	if !slices.Equal(got.LostChunks, []int{0}) || sum != int64(len(got.Recipients)) {
		t.Errorf("lost_chunks %v, counts %v over %d rows; want [0] and counts of the rows", got.LostChunks, got.Counts, len(got.Recipients))
	}
	path := filepath.Join(t.TempDir(), "report.json")
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = launch.LoadDelivered(name, []string{path})
	if fe := (*launch.FilteredReportError)(nil); !errors.As(err, &fe) || !strings.Contains(err.Error(), "lost chunk(s) [0]") {
		t.Errorf("a recovery reading the report: %v, want a *FilteredReportError naming the lost chunk", err)
	}
}

// lostChunkCampaign is outcomesCampaign with chunk 0 deleted, as Redis
// losing it would. It returns the store and the campaign's name.
func lostChunkCampaign(t *testing.T) (*store.Store, string) {
	t.Helper()
	r, s, name := outcomesCampaign(t)
	if n, err := r.Client().Del(t.Context(), "tidings:{"+name+"}:chunk:0").Result(); err != nil || n != 1 {
		t.Fatalf("delete chunk 0: %d, %v", n, err)
	}
	return s, name
}

// outcomesCampaign stages the demo campaign (in the rehearsal's
// environment) in chunks of 2 recipients and records outcomes for the
// first recipient of each of chunks 0 and 1 (sent, then failed). It
// returns the Redis, the store and the campaign's name.
func outcomesCampaign(t *testing.T) (*redistest.Redis, *store.Store, string) {
	t.Helper()
	ctx := t.Context()
	r := redistest.Start(t)
	s := store.New(r.Client())
	b, err := demo.Load(filepath.Join(t.TempDir(), "demo"))
	if err != nil {
		t.Fatal(err)
	}
	planned, err := launch.Plan(ctx, b.LaunchInput(nil, "qa", "host", nil))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := planned.Stage(ctx, s, launch.Options{SkipRefused: true, SkipInvalid: true, ChunkSize: 2, Start: true})
	if err != nil {
		t.Fatal(err)
	}
	name := b.Campaign.Name
	if res, err := s.Tick(ctx, name, store.TickParams{Stage: sum.Stage}, time.Now()); err != nil || res.Code != store.TickReleased || res.Batch != 0 {
		t.Fatalf("release the canary: %+v, %v", res, err)
	}
	l := s.Ledger(name, sum.Stage)
	for n, kind := range []store.Kind{store.KindSent, store.KindFailed} {
		recs, err := s.Chunk(ctx, name, n)
		if err != nil || len(recs) == 0 {
			t.Fatalf("chunk %d: %d recipients, %v", n, len(recs), err)
		}
		rc := recs[0]
		if _, err := l.Step(ctx, nil, []store.Claim{{ID: rc.ID, Lang: rc.Lang, Token: "t" + rc.ID}}, store.Policy{}, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Step(ctx, []store.Record{{ID: rc.ID, Lang: rc.Lang, Kind: kind, Code: "250", Token: "t" + rc.ID}}, nil, store.Policy{}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	return r, s, name
}

// TestCSVReportWithALostChunkSaysSo: a CSV report of a campaign whose
// chunk 0 Redis lost (with a recipient of it sent) lacks that chunk's
// rows, and says so in the file, filtered or not: a row of outcome
// unknown (code lost-chunk) names the chunk, so that neither a
// spreadsheet's count of the sent rows nor a recovery takes the file for
// every recipient; a recovery given it refuses it, naming the file and
// that row's line.
func TestCSVReportWithALostChunkSaysSo(t *testing.T) {
	t.Parallel()
	s, name := lostChunkCampaign(t)
	for _, outcomes := range [][]string{nil, {store.OutcomeSent}} {
		var out bytes.Buffer
		err := report.Write(t.Context(), s, name, &out, report.Options{Outcomes: outcomes})
		if lost := (*store.LostChunksError)(nil); !errors.As(err, &lost) {
			t.Fatalf("report %v: %v, want a *LostChunksError", outcomes, err)
		}
		rows, err := csv.NewReader(bytes.NewReader(out.Bytes())).ReadAll()
		if err != nil {
			t.Fatalf("report %v is not CSV: %v\n%s", outcomes, err, out.String())
		}
		col := map[string]int{}
		for i, h := range rows[0] {
			col[h] = i
		}
		var lostRows []int
		for i, row := range rows[1:] {
			if row[col["outcome"]] == report.OutcomeUnknown && row[col["code"]] == report.CodeLostChunk &&
				strings.Contains(row[col["response"]], "chunk 0") && row[col["campaign"]] == name {
				lostRows = append(lostRows, i+2) // the file's line
			}
		}
		if len(lostRows) != 1 {
			t.Errorf("report %v: %d rows saying that chunk 0 was lost, want 1:\n%s", outcomes, len(lostRows), out.String())
			continue
		}
		if outcomes != nil {
			continue
		}
		path := filepath.Join(t.TempDir(), "report.csv")
		if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err = launch.LoadDelivered(name, []string{path})
		if fe := (*launch.FilteredReportError)(nil); !errors.As(err, &fe) || !strings.Contains(err.Error(), fmt.Sprintf("%s:%d", path, lostRows[0])) {
			t.Errorf("a recovery reading the report: %v, want a *FilteredReportError naming %s:%d", err, path, lostRows[0])
		}
	}
}

// TestCSVAndJSONReportsAgree: the CSV and JSON reports of one campaign
// (outcomes recorded, a chunk lost) hold the same rows: every outcome's
// count in the JSON report is the number of CSV rows with that outcome,
// and the CSV's rows of outcome unknown name the chunks of lost_chunks,
// which the status names too.
func TestCSVAndJSONReportsAgree(t *testing.T) {
	t.Parallel()
	s, name := lostChunkCampaign(t)
	var csvOut, jsonOut bytes.Buffer
	for _, w := range []struct {
		format string
		out    *bytes.Buffer
	}{{report.FormatCSV, &csvOut}, {report.FormatJSON, &jsonOut}} {
		if err := report.Write(t.Context(), s, name, w.out, report.Options{Format: w.format}); !errors.As(err, new(*store.LostChunksError)) {
			t.Fatalf("%s report: %v, want a *LostChunksError", w.format, err)
		}
	}
	var got struct {
		Counts     map[string]int64 `json:"counts"`
		LostChunks []int            `json:"lost_chunks"`
	}
	if err := json.Unmarshal(jsonOut.Bytes(), &got); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, jsonOut.String())
	}
	rows, err := csv.NewReader(&csvOut).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	outcome, response := slices.Index(report.Columns, "outcome"), slices.Index(report.Columns, "response")
	tally := map[string]int64{}
	var lost []int
	for _, row := range rows[1:] {
		if row[outcome] == report.OutcomeUnknown {
			var n int
			if _, err := fmt.Sscanf(row[response], "Redis lost chunk %d ", &n); err != nil {
				t.Fatalf("row %v: %v", row, err)
			}
			lost = append(lost, n)
			continue
		}
		tally[row[outcome]]++
	}
	if tally[store.OutcomeFailed] != 1 || tally[store.OutcomePending] == 0 {
		t.Fatalf("CSV rows %v: want the failed one and pending ones", tally)
	}
	for _, o := range store.Outcomes {
		if got.Counts[o] != tally[o] {
			t.Errorf("JSON counts say %d %s, the CSV rows %d (counts %v, rows %v)", got.Counts[o], o, tally[o], got.Counts, tally)
		}
	}
	st, err := s.Status(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(lost, got.LostChunks) || !slices.Equal(lost, []int{0}) || !slices.Equal(st.LostChunks, lost) {
		t.Errorf("CSV names lost chunks %v, JSON %v, the status %v; want [0] in all", lost, got.LostChunks, st.LostChunks)
	}
}

// TestReportOfACampaignWhoseMetaRedisLost: Redis lost the meta of a
// campaign whose control stayed. Before, its report said the campaign was
// not found in this environment's Redis; now it says that Redis lost its
// meta, and where who was sent is recorded (the journals' report). A
// campaign Redis has no trace of is still not found.
func TestReportOfACampaignWhoseMetaRedisLost(t *testing.T) {
	t.Parallel()
	s, name := lostChunkCampaign(t)
	r := redistest.Start(t) // another Redis: one with no trace of name
	for _, f := range []string{report.FormatCSV, report.FormatJSON} {
		var out bytes.Buffer
		if err := report.Write(t.Context(), store.New(r.Client()), name, &out, report.Options{Format: f}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s report of a campaign Redis has no trace of: %v, want not found", f, err)
		}
	}
	if n, err := s.Client().Unlink(t.Context(), "tidings:{"+name+"}:meta").Result(); err != nil || n != 1 {
		t.Fatalf("unlink the meta: %d, %v", n, err)
	}
	for _, f := range []string{report.FormatCSV, report.FormatJSON} {
		var out bytes.Buffer
		err := report.Write(t.Context(), s, name, &out, report.Options{Format: f})
		if err == nil || !strings.Contains(err.Error(), "Redis lost this campaign's meta") || !strings.Contains(err.Error(), "tidings report "+name+" --journal JOURNAL_DIR") || out.Len() != 0 {
			t.Errorf("%s report of a campaign whose meta Redis lost: %v, %d bytes; want no report and an error saying so", f, err, out.Len())
		}
	}
}
