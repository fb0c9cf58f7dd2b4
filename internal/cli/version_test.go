package cli

import (
	"strings"
	"testing"
)

// TestVersionCommandAndFlag: `tidings --version` and `tidings version`
// print the same line; a test binary is built without VCS information.
func TestVersionCommandAndFlag(t *testing.T) {
	t.Parallel()
	flag, cmd := cli(t, nil, "--version"), cli(t, nil, "version")
	if flag.code != 0 || cmd.code != 0 || flag.stdout != cmd.stdout || !strings.HasPrefix(cmd.stdout, "tidings devel") {
		t.Errorf("--version and version differ or do not start with 'tidings devel'\n%s\n%s", flag, cmd)
	}
}
