//go:build race

package worker_test

// raceDetector: the test binary was built with -race (see waitBoundParallel).
const raceDetector = true
