package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/redistest"
)

// TestRetryCodeAsReported: the report's code column holds both codes of a
// reply ("500 5.3.0"); pasted whole, Requeue refuses it (it matches one
// code) and says exactly which of the two to give; a malformed code keeps
// the general wording.
func TestRetryCodeAsReported(t *testing.T) {
	s := New(redistest.Start(t).Client())
	for _, tc := range []struct{ code, want string }{
		{"500 5.3.0", `reply code "500 5.3.0" holds two codes, the report's basic and enhanced one: give one of them, 5.3.0 (or 500, which also matches other enhanced codes)`},
		{" 554   5.7.1 ", `reply code " 554   5.7.1 " holds two codes, the report's basic and enhanced one: give one of them, 5.7.1 (or 554, which also matches other enhanced codes)`},
		{"5.7", `reply code "5.7" is not the code of an SMTP failure: give a reply code (554) or an enhanced status code (5.7.1), as the report's code column shows them`},
		{"500 5.3", `reply code "500 5.3" is not the code of an SMTP failure: give a reply code (554) or an enhanced status code (5.7.1), as the report's code column shows them`},
	} {
		_, err := s.Requeue(context.Background(), "no-such", Actor{Who: "t"}, RetryScope{Permanent: true, Code: tc.code})
		if !errors.As(err, new(*ReplyCodeError)) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("retry --code %q: %v, want a *ReplyCodeError saying %q", tc.code, err, tc.want)
		}
	}
}
