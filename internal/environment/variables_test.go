package environment_test

import (
	"fmt"
	"testing"

	"github.com/tidings-mail/tidings/internal/environment"
)

// TestUnknownVariables: a TIDINGS_* variable tidings does not read is
// found, with the known one it may have been meant as; known ones, those
// read elsewhere and other variables are not.
func TestUnknownVariables(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		environ []string
		want    string
	}{
		{[]string{"TIDINGS_REDIS_ULR=redis://x", "HOME=/root"}, "[{TIDINGS_REDIS_ULR TIDINGS_REDIS_URL}]"},
		{[]string{"TIDINGS_SMTP_HOTS=x", "TIDINGS_SMTP_HOST=y"}, "[{TIDINGS_SMTP_HOTS TIDINGS_SMTP_HOST}]"},
		{[]string{"TIDINGS_CONFIGG=x"}, "[{TIDINGS_CONFIGG TIDINGS_CONFIG}]"}, // known: passed by the caller
		{[]string{"TIDINGS_NOTHING_LIKE_IT=1", "TIDINGS_NOTHING_LIKE_IT=2"}, "[{TIDINGS_NOTHING_LIKE_IT }]"},
		{[]string{"TIDINGS_REDIS_URL=x", "TIDINGS_CONFIG=y", "TIDINGS_CONSOLE_VIEWER_TOKEN=z", "TIDINGS=1", "XTIDINGS_A=1"}, "[]"},
		{[]string{"TIDINGS_Z=1", "TIDINGS_A=1"}, "[{TIDINGS_A } {TIDINGS_Z }]"},
	} {
		if got := fmt.Sprint(environment.UnknownVariables(tt.environ, "TIDINGS_CONFIG")); got != tt.want {
			t.Errorf("UnknownVariables(%q) = %s, want %s", tt.environ, got, tt.want)
		}
	}
}
