// Package buildinfo says what a tidings binary was built from: the module
// version and the version control commit and time that Go recorded in it
// (runtime/debug.ReadBuildInfo). A binary built inside the repository has
// the version "devel" (or a pseudo-version Go derived from the commit); one
// built with -buildvcs=false has no commit, and says so.
package buildinfo

import (
	"fmt"
	"os"
	"runtime/debug"
	"strings"
)

// Invocation is how to run this program again, for the commands it
// suggests: "go run ./cmd/tidings" under go run (its binary lives in Go's
// build cache), else the path it was started with (os.Args[0]).
func Invocation() string { return invocation(os.Args[0]) }

func invocation(arg0 string) string {
	if arg0 == "" || strings.Contains(arg0, "go-build") {
		return "go run ./cmd/tidings"
	}
	return arg0
}

// String describes this binary's build, e.g. "v1.2.0 (commit 0123abcd4567,
// 2026-06-01T10:00:00Z)".
func String() string { return Describe(debug.ReadBuildInfo()) }

// Describe describes a build: "v1.2.0 (commit 0123abcd4567,
// 2026-06-01T10:00:00Z)", "devel (commit abc, modified)", "devel (built
// without version control information)", or, when ok is false, "devel
// (built without module information)".
func Describe(info *debug.BuildInfo, ok bool) string {
	if !ok || info == nil {
		return "devel (built without module information)"
	}
	v := info.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	var rev, at, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = ", " + s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", modified"
			}
		}
	}
	if rev == "" {
		return v + " (built without version control information)"
	}
	return fmt.Sprintf("%s (commit %s%s%s)", v, rev[:min(len(rev), 12)], at, modified)
}
