package suggest_test

import (
	"fmt"
	"testing"

	"github.com/tidings-mail/tidings/internal/suggest"
)

func TestSimilar(t *testing.T) {
	t.Parallel()
	names := []string{"altea-migration", "altea-migration-2", "billing-notice", "welcome", "Welcome-DE", "x"}
	tests := []struct {
		name string
		want string
	}{
		{"altea-migraton", "[altea-migration altea-migration-2]"}, // one letter dropped: the closest first
		{"ALTEA-MIGRATION", "[altea-migration altea-migration-2]"},
		{"billing-notcie", "[billing-notice]"},
		{"welcome-de", "[Welcome-DE welcome]"}, // same but for case first
		{"welcom", "[welcome]"},
		{"altea-migration", "[altea-migration-2]"}, // itself is not suggested
		{"newsletter", "[]"},
		{"y", "[x]"}, // short names: one edit
	}
	for _, tt := range tests {
		if got := fmt.Sprint(suggest.Similar(tt.name, names)); got != tt.want {
			t.Errorf("Similar(%q) = %s, want %s", tt.name, got, tt.want)
		}
	}
	if got := suggest.Similar("a", nil); len(got) != 0 {
		t.Errorf("no candidates: %v", got)
	}
}
