package console

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TestAdviceNeverPrintsAnEmptyFlag: a console of a campaign file alone has
// no environment; its advice names commands without an --env flag rather
// than with an empty one. Found by red team 10: the advice read
// "tidings doctor --env  says what is wrong".
func TestAdviceNeverPrintsAnEmptyFlag(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ env, want string }{
		{"", "tidings doctor says what is wrong"},
		{"staging", "tidings doctor --env staging says what is wrong"},
	} {
		s := &Server{cfg: Config{Env: tt.env}}
		status, msg := s.advice("c", "", errors.New("dial tcp 127.0.0.1:1: connection refused"))
		if status != http.StatusServiceUnavailable || !strings.Contains(msg, tt.want) || strings.Contains(msg, "--env  ") {
			t.Errorf("env %q: %d %q; want %q", tt.env, status, msg, tt.want)
		}
	}
}
