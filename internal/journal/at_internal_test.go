package journal

import (
	"fmt"
	"testing"
	"time"
)

// checkAppendAt fails unless appendAt writes t as AppendText does, twice
// (the second from the second's text it kept), with the same error.
func checkAppendAt(t *testing.T, at time.Time) {
	t.Helper()
	want, werr := at.AppendText([]byte("x"))
	for range 2 {
		got, gerr := appendAt([]byte("x"), at)
		if fmt.Sprint(gerr) != fmt.Sprint(werr) {
			t.Fatalf("%v: appendAt error %v, AppendText error %v", at, gerr, werr)
		}
		if werr == nil && string(got) != string(want) {
			t.Fatalf("appendAt(%v) = %s, want %s", at, got, want)
		}
	}
}

// atZones are UTC, the local zone and zones with offsets.
var atZones = []*time.Location{time.UTC, time.Local, time.FixedZone("x", 5*3600+30*60), time.FixedZone("y", -(3*3600 + 7))}

// TestAppendAt: every fraction's length, whole seconds, the seconds
// around, zones, and years AppendText refuses.
func TestAppendAt(t *testing.T) {
	base := time.Date(2026, 12, 5, 12, 14, 27, 0, time.UTC)
	for _, loc := range atZones {
		for _, ns := range []int{0, 1, 10, 100, 123, 715395924, 715395920, 700000000, 999999999, 500, 100000000} {
			for _, d := range []time.Duration{0, time.Second, -time.Second, 0} {
				checkAppendAt(t, base.Add(d).Add(time.Duration(ns)).In(loc))
			}
		}
	}
	for _, y := range []int{-1, 0, 9999, 10000} {
		checkAppendAt(t, time.Date(y, 1, 1, 0, 0, 0, 42, time.UTC))
	}
	// The same second and location, another time: a monotonic reading.
	now := time.Now()
	checkAppendAt(t, now)
	checkAppendAt(t, now.Round(0))
}

// FuzzAppendAt compares appendAt with AppendText for any time, in each
// zone, the one before it kept in between.
func FuzzAppendAt(f *testing.F) {
	f.Add(int64(1764936867), int64(715395924))
	f.Add(int64(0), int64(0))
	f.Add(int64(-62135596800), int64(1))
	f.Add(int64(253402300799), int64(999999999))
	f.Fuzz(func(t *testing.T, sec, ns int64) {
		for _, loc := range atZones {
			checkAppendAt(t, time.Unix(sec, ns).In(loc))
			checkAppendAt(t, time.Unix(sec, ns+1).In(loc))
		}
	})
}
