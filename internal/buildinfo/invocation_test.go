package buildinfo

import "testing"

// TestInvocation: a binary that go run built in its cache is run again
// with go run; any other with the path it was started with.
func TestInvocation(t *testing.T) {
	t.Parallel()
	for arg0, want := range map[string]string{
		"/tmp/go-build1234/b001/exe/tidings": "go run ./cmd/tidings",
		"/root/.cache/go-build/ab/tidings":   "go run ./cmd/tidings",
		"tidings":                            "tidings",
		"./bin/tidings":                      "./bin/tidings",
		"":                                   "go run ./cmd/tidings",
	} {
		if got := invocation(arg0); got != want {
			t.Errorf("invocation(%q) = %q, want %q", arg0, got, want)
		}
	}
}
