package main

import (
	"math"
	"testing"
)

func TestLostTo(t *testing.T) {
	// n = 1000 at a steady 1000 msg/s: 10 % of the messages take 0.1 s.
	for _, tc := range []struct {
		name string
		r    roundResult
		want *lostTime
	}{
		{"steady from the first message to the last, done at once",
			roundResult{StagingS: 1.0, FirstMessageS: 1.0, TenthS: 1.1, NinetiethS: 1.9, LastMessageS: 2.0, WallS: 2.0, SteadyMsgPerS: 1000},
			&lostTime{Seconds: 1.0, FirstMessageS: 1.0, StagingS: 1.0, SendingRatio: 1}},
		{"a slow start, a tail at half the rate, done late",
			roundResult{StagingS: 0.5, FirstMessageS: 0.6, TenthS: 0.9, NinetiethS: 1.7, LastMessageS: 1.9, WallS: 2.0, SteadyMsgPerS: 1000},
			&lostTime{Seconds: 1.0, FirstMessageS: 0.6, StagingS: 0.5, RampS: 0.2, TailS: 0.1, DoneS: 0.1, SendingRatio: 1000.0 / 1.5 / 1000}},
		{"a first 10 % faster than the steady phase",
			roundResult{StagingS: 0.5, FirstMessageS: 0.5, TenthS: 0.55, NinetiethS: 1.35, LastMessageS: 1.45, WallS: 1.45, SteadyMsgPerS: 1000},
			&lostTime{Seconds: 0.45, FirstMessageS: 0.5, StagingS: 0.5, RampS: -0.05, SendingRatio: 1000.0 / 0.95 / 1000}},
		{"no steady rate", roundResult{StagingS: 0.5, FirstMessageS: 0.6, TenthS: 0.9, NinetiethS: 1.7, LastMessageS: 1.9, WallS: 2.0}, nil},
		{"no last message seen", roundResult{StagingS: 0.5, FirstMessageS: 0.6, TenthS: 0.9, NinetiethS: 1.7, WallS: 2.0, SteadyMsgPerS: 1000}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := lostTo(&tc.r, 1000)
			if (got == nil) != (tc.want == nil) {
				t.Fatalf("lostTo = %+v, want %+v", got, tc.want)
			}
			if got == nil {
				return
			}
			near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
			if !near(got.Seconds, tc.want.Seconds) || !near(got.FirstMessageS, tc.want.FirstMessageS) || !near(got.StagingS, tc.want.StagingS) ||
				!near(got.RampS, tc.want.RampS) || !near(got.TailS, tc.want.TailS) || !near(got.DoneS, tc.want.DoneS) || !near(got.SendingRatio, tc.want.SendingRatio) {
				t.Errorf("lostTo = %+v, want %+v", *got, *tc.want)
			}
			// The phases add up to the whole loss: the steady phase loses nothing.
			if sum := got.FirstMessageS + got.RampS + got.TailS + got.DoneS; !near(sum, got.Seconds) {
				t.Errorf("phases add up to %f, the loss is %f", sum, got.Seconds)
			}
		})
	}
}
