package buildinfo_test

import (
	"runtime/debug"
	"testing"

	"github.com/tidings-mail/tidings/internal/buildinfo"
)

func TestDescribe(t *testing.T) {
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
		if got := buildinfo.Describe(tt.info, tt.ok); got != tt.want {
			t.Errorf("%s: Describe = %q, want %q", tt.name, got, tt.want)
		}
	}
}
