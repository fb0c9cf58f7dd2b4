package unsubscribe_test

import (
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/unsubscribe"
)

// TestNamesRecipient: an https template (one-click) must hold {id} or
// {email} before any "#"; the error suggests where to put {id}.
func TestNamesRecipient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tmpl    string
		suggest string // "" when it passes
	}{
		{"https://altea.example/unsubscribe?id={id}", ""},
		{"https://altea.example/u/{email}", ""},
		{"https://altea.example/u?x=1&who={email}#top", ""},
		{"http://altea.example/unsubscribe", ""}, // no one-click
		{"mailto:unsubscribe@altea.example", ""}, // carries the sender
		{"mailto:u@altea.example?subject=unsubscribe", ""},
		{"https://altea.example/unsubscribe", "https://altea.example/unsubscribe?id={id}"},
		{"HTTPS://altea.example/unsubscribe", "HTTPS://altea.example/unsubscribe?id={id}"},
		{"https://altea.example/u?list=news", "https://altea.example/u?list=news&id={id}"},
		{"https://altea.example/u?", "https://altea.example/u?id={id}"},
		{"https://altea.example/u#{id}", "https://altea.example/u?id={id}"},
		{"https://altea.example/u?l=1#x={email}", "https://altea.example/u?l=1&id={id}"},
	}
	for _, tt := range tests {
		err := unsubscribe.NamesRecipient(tt.tmpl)
		switch {
		case tt.suggest == "" && err != nil:
			t.Errorf("NamesRecipient(%q) = %v, want nil", tt.tmpl, err)
		case tt.suggest != "" && err == nil:
			t.Errorf("NamesRecipient(%q) = nil, want an error", tt.tmpl)
		case tt.suggest != "" && !strings.Contains(err.Error(), "e.g. "+tt.suggest+", or give a mailto: URL"):
			t.Errorf("NamesRecipient(%q) = %v, want it to suggest %s and mailto", tt.tmpl, err, tt.suggest)
		}
	}
}
