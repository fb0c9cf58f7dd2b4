package address

import "testing"

// TestMailboxWithDirectionControlIsRefused: a campaign's from or reply_to
// whose display name holds a bidirectional embedding, override or isolate
// control (U+202A-U+202E, U+2066-U+2069) is refused: it would reorder how
// every recipient's mail client shows the sender ("\u202eytinummoC aetlA"
// is shown "Altea Community"), and nobody reviewing the campaign file sees
// the character. Found by red team 39: CheckMailbox accepted it, as the
// recipients' name column no longer is. Right-to-left and mixed names, and
// the marks U+200E, U+200F, U+061C, are accepted.
func TestMailboxWithDirectionControlIsRefused(t *testing.T) {
	t.Parallel()
	tests := []struct{ from, want string }{
		{"\u202eytinummoC aetlA <community@altea.example>", `"\u202eytinummoC aetlA <community@altea.example>": the display name holds U+202E (a direction control) at byte 0, which reorders how the sender is shown: remove it; right-to-left names need none`},
		{"Altea \u2067مجتمع\u2069 <community@altea.example>", `"Altea \u2067مجتمع\u2069 <community@altea.example>": the display name holds U+2067 (a direction control) at byte 6, which reorders how the sender is shown: remove it; right-to-left names need none`},
		{"مجتمع Altea <community@altea.example>", ""},
		{"\u200fمجتمع Altea\u200f <community@altea.example>", ""},
		{"community@altea.example", ""},
	}
	for _, tt := range tests {
		err := CheckMailbox(tt.from)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("CheckMailbox(%q): %v, want nil", tt.from, err)
		case tt.want != "" && (err == nil || err.Error() != tt.want):
			t.Errorf("CheckMailbox(%q):\n %v\nwant\n %s", tt.from, err, tt.want)
		}
	}
}
