package campaign

import (
	"strings"
	"testing"
)

// TestFromAndReplyToMustGoOnTheWire: from and reply_to go on every
// message, so validation refuses what the worker's composer
// (address.CheckMailbox) would refuse, at the key's line and with what to
// do; an internationalised domain IDNA accepts is fine.
func TestFromAndReplyToMustGoOnTheWire(t *testing.T) {
	t.Parallel()
	base := "name: c\nenvironment: staging\ntemplate: welcome\nrecipients: r.csv\n"
	long := "a@" + strings.Repeat(strings.Repeat("d", 60)+".", 5) + "example" // 2 + 5*61 + 7 bytes
	for _, tt := range []struct{ extra, want string }{
		{"from: \"Bücher <news@bücher.example>\"\nreply_to: \"josé@bücher.example\"\n", ""},
		{"from: \"Altea <community@bücher_news.example>\"\n", `c.yaml:5: from: "Altea <community@bücher_news.example>" has a domain that is not a valid internationalised domain name (idna: `},
		{"from: " + strings.Repeat("a", 65) + "@altea.example\n", "c.yaml:5: from: \"" + strings.Repeat("a", 65) + "@altea.example\" has 65 bytes before the @, more than SMTP allows (64): use a shorter address"},
		{"from: a@altea.example\nreply_to: \"Help <" + strings.Repeat("r", 65) + "@altea.example>\"\n", "c.yaml:6: reply_to: \"Help <" + strings.Repeat("r", 65) + "@altea.example>\" has 65 bytes before the @"},
		{"from: " + long + "\n", "c.yaml:5: from: \"" + long + "\" is 314 bytes long, more than SMTP allows (254): use a shorter address"},
	} {
		_, err := Parse([]byte(base+tt.extra), "c.yaml")
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q: %v, want it accepted", tt.extra, err)
		case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
			t.Errorf("%q: got %v, want %q", tt.extra, err, tt.want)
		}
	}
}
