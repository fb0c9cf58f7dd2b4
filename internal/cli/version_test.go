package cli

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	t.Parallel()
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	tests := []struct {
		name string
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{"released module", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}, Settings: vcs("vcs.revision", "0123456789abcdef0123", "vcs.time", "2026-06-01T10:00:00Z", "vcs.modified", "false")},
			true, "v1.2.0 (commit 0123456789ab, 2026-06-01T10:00:00Z)"},
		{"built in the repository, with changes", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("vcs.revision", "abc", "vcs.modified", "true")},
			true, "devel (commit abc, modified)"},
		{"-buildvcs=false", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true, "devel (built without version control information)"},
		{"no module", nil, false, "devel (built without module information)"},
	}
	for _, tt := range tests {
		if got := version(tt.info, tt.ok); got != tt.want {
			t.Errorf("%s: version = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestVersionCommandAndFlag: `tidings --version` and `tidings version`
// print the same line; a test binary is built without VCS information.
func TestVersionCommandAndFlag(t *testing.T) {
	t.Parallel()
	flag, cmd := cli(t, nil, "--version"), cli(t, nil, "version")
	if flag.code != 0 || cmd.code != 0 || flag.stdout != cmd.stdout || !strings.HasPrefix(cmd.stdout, "tidings devel") {
		t.Errorf("--version and version differ or do not start with 'tidings devel'\n%s\n%s", flag, cmd)
	}
}
