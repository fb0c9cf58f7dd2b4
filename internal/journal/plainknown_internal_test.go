package journal

import (
	"encoding/json"
	"testing"
	"time"
)

// checkLines fails unless the lines of es appended one after the other
// with one plainKnown, as Append writes a window's lines, are what
// json.Marshal writes of each: what the memo skips checking is never a
// string that needs quoting.
func checkLines(t *testing.T, es []Entry) {
	t.Helper()
	var known plainKnown
	var got, want []byte
	for _, e := range es {
		var err error
		if got, err = e.appendJSON(got, &known); err != nil {
			t.Fatal(err)
		}
		got = append(got, '\n')
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		want = append(append(want, b...), '\n')
	}
	if string(got) != string(want) {
		t.Fatalf("lines appended with one plainKnown:\n%s\nwant (json.Marshal):\n%s", got, want)
	}
}

// TestPlainKnown appends windows of lines whose campaign, run, stage and
// worker repeat, change, need quoting, have the same length as one
// another, or change from line to line.
func TestPlainKnown(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 5, 15, 31, 0, 358835125, time.UTC)
	line := func(campaign, run, stage, worker string) Entry {
		return Entry{At: at, Campaign: campaign, Run: run, ID: "u1", Email: "user1@bench.example", Lang: "en",
			Outcome: OutcomeClaimed, Attempt: 1, Stage: stage, Worker: worker}
	}
	const run, stage = "tpkwfl-2e8a217923077595ab78ca37", "tpkwfl-2e8362eb577d8d318c1ccdd2" // one length
	for _, tc := range []struct {
		name string
		es   []Entry
	}{
		{"a window of one run", []Entry{line("bench01", run, stage, "vm-1"), line("bench01", run, stage, "vm-1"), line("bench01", run, "", "vm-1")}},
		{"the run's text as the stage", []Entry{line("bench01", run, stage, "w"), line("bench01", run, run, "w")}},
		{"a string needing quotes after a plain one of its length", []Entry{line("b<1", "r", "s", "w"), line("b&1", "r", "s", "w"), line("b11", "r", "s", "w"), line("b>1", "r", "s", "w")}},
		{"a string needing quotes first", []Entry{line("ca\"mp", "r", "s", "w"), line("ca\"mp", "r", "s", "w")}},
		{"invalid UTF-8 and non-ASCII", []Entry{line("c", "r\xff", "s", "wörker"), line("c", "r\xff", "s", "wörker")}},
		{"strings that change from line to line", []Entry{line("c1", "r1", "s1", "w1"), line("c2", "r2", "s2", "w2"), line("c1", "r1", "s<", "w1"), line("c3", "r1", "s1", "w<")}},
		{"empty strings", []Entry{line("", "", "", ""), line("c", "", "", "")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkLines(t, tc.es)
		})
	}
}

// FuzzPlainKnown: any strings in the repeated fields, in any order,
// appended with one plainKnown, are written as json.Marshal writes them.
func FuzzPlainKnown(f *testing.F) {
	f.Add("bench01", "tpkwfl-2e8a217923077595ab78ca37", "vm-1", "a<b")
	f.Add("x", "x\"", "\xff", "")
	f.Fuzz(func(t *testing.T, a, b, c, d string) {
		at := time.Unix(1764948660, 5).UTC()
		vs := [...]string{a, b, c, d}
		var es []Entry
		for i := range 8 {
			es = append(es, Entry{At: at, Campaign: vs[i%4], Run: vs[(i+1)%4], ID: vs[(i+2)%4], Email: "e@x",
				Outcome: "sent", Stage: vs[(i*3)%4], Worker: vs[(i+3)%4]})
		}
		checkLines(t, es)
	})
}
