package store_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestStageRecordsFirstsAndRefusals: staging records, for the console's
// gallery, the first recipient of every language in batch order (the
// canary batch first), however far down the file it comes, with its
// template data; and the refused rows counted by why: a locale refusal by
// its locale, another refusal by its code, invalid and skipped rows not
// at all.
func TestStageRecordsFirstsAndRefusals(t *testing.T) {
	t.Parallel()
	st := store.New(startRedis(t))
	ctx := context.Background()
	sg, err := st.NewStager(ctx, store.StageConfig{Campaign: "firsts", Definition: []byte(`{}`), Hash: "h", Env: "test",
		Who: "alice", Columns: []string{"plan"}, Canary: true, ChunkSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	add := func(line int, lang string, batch int, canary bool) {
		t.Helper()
		r := store.Recipient{Line: line, ID: fmt.Sprint("r", line), Email: fmt.Sprintf("r%d@x.example", line), Locale: lang, Lang: lang,
			Fields: map[string]string{"plan": fmt.Sprint("p", line)}}
		if err := sg.Add(ctx, r, batch, canary); err != nil {
			t.Fatal(err)
		}
	}
	add(2, "de", 1, false) // the first German row of the file ...
	for line := 3; line < 50; line++ {
		add(line, "en", 1+(line-3)/10, false)
	}
	add(50, "fr", 5, false) // ... the only French one, after 47 English ones
	add(51, "de", 0, true)  // ... and the German canary, sent first
	add(52, "en", 0, true)
	rejects := []store.Reject{
		{Line: 53, Email: "a@x.example", Locale: "nl", Outcome: store.OutcomeRefused, Code: "not-covered", Field: "locale", Reason: "not-covered: no catalog for nl"},
		{Line: 54, Email: "b@x.example", Locale: "nl", Outcome: store.OutcomeRefused, Code: "not-covered", Field: "locale", Reason: "not-covered: no catalog for nl"},
		{Line: 55, Email: "c@x.example", Locale: "pt", Outcome: store.OutcomeRefused, Code: "not-covered", Field: "locale", Reason: "not-covered: no catalog for pt"},
		{Line: 56, Email: "d@x.example", Locale: "en", Outcome: store.OutcomeRefused, Code: "not-allowed-in-test", Field: "email", Reason: "not-allowed-in-test: d@x.example is not on the allowlist of environment test"},
		{Line: 57, Email: "e@x.example", Locale: "de", Outcome: store.OutcomeRefused, Code: "not-allowed-in-test", Field: "email", Reason: "not-allowed-in-test: e@x.example is not on the allowlist of environment test"},
		{Line: 58, Email: "bad", Outcome: store.OutcomeInvalid, Code: "email", Field: "email", Reason: "not an address"},
	}
	for _, r := range rejects {
		if err := sg.Reject(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sg.Finish(ctx, false); err != nil {
		t.Fatal(err)
	}
	meta, err := st.Meta(ctx, "firsts", false)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for lang, r := range meta.Firsts {
		got[lang] = fmt.Sprintf("%s line %d plan %s", r.ID, r.Line, r.FieldsInto(nil, meta.Columns)["plan"])
	}
	want := map[string]string{"de": "r51 line 51 plan p51", "en": "r52 line 52 plan p52", "fr": "r50 line 50 plan p50"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("firsts %v, want %v (the canary batch first, then the file's order)", got, want)
	}
	wantR := []store.Refusal{
		{Code: "not-covered", Field: "locale", Locale: "nl", Reason: "not-covered: no catalog for nl", Count: 2},
		{Code: "not-covered", Field: "locale", Locale: "pt", Reason: "not-covered: no catalog for pt", Count: 1},
		{Code: "not-allowed-in-test", Field: "email", Reason: rejects[3].Reason, Count: 2},
	}
	if !reflect.DeepEqual(meta.Refusals, wantR) {
		t.Errorf("refusals %+v, want %+v", meta.Refusals, wantR)
	}
}

// TestCountRefusalKeepsAtMostMaxRefusals: a file of garbage locales
// counts each of the first MaxRefusals reasons; the rows refused for
// later ones are counted by no group (the total says how many).
func TestCountRefusalKeepsAtMostMaxRefusals(t *testing.T) {
	t.Parallel()
	var rs []store.Refusal
	for i := 0; i < store.MaxRefusals+5; i++ {
		rs = store.CountRefusal(rs, store.Reject{Outcome: store.OutcomeRefused, Code: "unparsable", Field: "locale", Locale: fmt.Sprint("x", i)})
	}
	rs = store.CountRefusal(rs, store.Reject{Outcome: store.OutcomeRefused, Code: "unparsable", Field: "locale", Locale: "x0"})
	if len(rs) != store.MaxRefusals || rs[0].Count != 2 {
		t.Errorf("%d groups, the first counting %d, want %d groups, the first counting 2", len(rs), rs[0].Count, store.MaxRefusals)
	}
}
