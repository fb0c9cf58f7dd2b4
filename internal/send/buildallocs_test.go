package send

import (
	"testing"
	"time"
)

// TestBuildAllocations counts the allocations of a campaign's message from
// the Composer to its bytes (Composer.Message, prepare, writeMessage with a
// random boundary, into a pooled buffer), with the bench's headers: a
// display name quoted as it is, List-Unsubscribe with the recipient's id.
// 12 before the day's cuts (the recipient's wire address and "<address>",
// the quoted display name, the "<URI>" token, the boundary's string, the
// List-Unsubscribe value's "<...>", the prepared headers' and URIs' room,
// which a connection now keeps from message to message); what is left is
// the Message and its headers' room, the Message-ID and the
// List-Unsubscribe value (Composer.Message).
func TestBuildAllocations(t *testing.T) {
	c, err := NewComposer(ComposerConfig{Campaign: "bench01", From: "Bench <bench@tidings.example>", ListUnsubscribe: "https://tidings.example/unsubscribe?id={id}"})
	if err != nil {
		t.Fatal(err)
	}
	content := Content{Lang: "en", Subject: "Welcome", Text: "Hello Ada,\nwelcome.\n", HTML: "<p>Hello Ada,</p>"}
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	b := getBuffer()
	defer putBuffer(b)
	var headers []Header
	var uris []string
	build := func() {
		m := c.Message("r000042", "user42@bench.example", "Ada Lovelace", content, now)
		p, err := prepareInto(m, headers, uris) // as a Conn does
		if err != nil {
			t.Fatal(err)
		}
		headers, uris = p.headers, p.unsubscribe
		b.Reset()
		boundary := newBoundary()
		writeMessage(b, &p, capability{eightBit: true}, boundary[:])
	}
	got := testing.AllocsPerRun(200, build)
	const want = 3
	if got > want {
		t.Errorf("a message allocates %.0f times from the Composer to its bytes, want at most %d", got, want)
	}
}
