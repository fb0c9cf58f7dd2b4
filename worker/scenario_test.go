package worker_test

import (
	"flag"
	"runtime"
	"strconv"
	"testing"
)

// waitBoundParallel raises the number of this package's parallel tests
// that run at once from go test's default, GOMAXPROCS (2 on CI's machine),
// to 2 x GOMAXPROCS, unless -test.parallel (go test -parallel) is given.
// The tests mostly wait: for a batch interval, a rate limit, a relay that
// holds a message, a Redis Cluster to settle or a worker's check to end;
// two at a time kept the CPU idle most of the package's run (CI: 471 s,
// the critical path of go test ./...). Tests that a loaded machine could
// fail (a campaign's rate measured, a server-wide CONFIG SET) do not call
// t.Parallel: they run first, one at a time, before any parallel test.
// Not under the race detector, which multiplies the CPU each test needs:
// with 2 x GOMAXPROCS under -race on the loaded development machine 14
// tests timed out waiting (a campaign not done in a minute), against one
// in the same run at go test's default. Called by TestMain before m.Run.
func waitBoundParallel() {
	flag.Parse()
	set := raceDetector
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", strconv.Itoa(2*runtime.GOMAXPROCS(0)))
	}
}

// scenario marks t as a long scenario test whose subject is behaviour
// across processes, Redis deployments or restarts (a Redis Cluster with a
// silent master, a journal check racing a restart), not code of one
// process running concurrently that other, shorter tests do not also
// run. CI's race step (go test -race -short) skips it: the race detector
// sees only one process's memory, and these tests' concurrent code paths
// run under it in the tests it keeps. CI's first pass (go test ./...,
// without -short, where any skip fails the run) runs it, as does every
// go test without -short.
func scenario(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("a scenario test, skipped by -short (CI's race step); CI's go test ./... runs it")
	}
}
