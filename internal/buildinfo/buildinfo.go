// Package buildinfo says what a tidings binary was built from: the module
// version and the version control commit and time that Go recorded in it
// (runtime/debug.ReadBuildInfo). A binary built inside the repository has
// the version "devel" (or a pseudo-version Go derived from the commit); one
// built with -buildvcs=false has no commit, and says so.
package buildinfo

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
)

// Invocation is how to run this program again, for the commands it
// suggests. A binary go run built (it lives in a go-build directory, or
// under $GOCACHE or $GOTMPDIR) is run again with go run: of the module
// version it was built from (go run github.com/...@v1.2.0), or of
// ./cmd/tidings inside a clone. Any other is run with the path it was
// started with (os.Args[0]).
func Invocation() string {
	exe, _ := os.Executable()
	version := ""
	if info, ok := debug.ReadBuildInfo(); ok {
		version = info.Main.Version
	}
	return invocation(os.Args[0], exe, version, os.Getenv("GOCACHE"), os.Getenv("GOTMPDIR"))
}

// invocation is Invocation for a program started as arg0 from executable
// exe, built from module version, with go run's directories dirs.
func invocation(arg0, exe, version string, dirs ...string) string {
	ran := arg0 == "" || strings.Contains(exe, "go-build") || strings.Contains(arg0, "go-build")
	for _, d := range dirs {
		ran = ran || d != "" && strings.HasPrefix(exe, filepath.Clean(d)+string(filepath.Separator))
	}
	switch {
	case !ran:
		return arg0
	case version != "" && version != "(devel)":
		return "go run github.com/tidings-mail/tidings/cmd/tidings@" + version
	}
	return "go run ./cmd/tidings"
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
