package send

import (
	netmail "net/mail"
	"testing"
)

// plainAddressCases are recipient addresses and whether plainAddress takes
// them without net/mail (true), or leaves them to net/mail (false).
var plainAddressCases = []struct {
	addr  string
	plain bool
}{
	{"user0@bench.example", true},
	{"a@b", true},
	{"first.last+tag@sub.example.org", true},
	{"o'brien@example.ie", true},
	{"!#$%&'*+-/=?^_`{|}~@example.com", true},
	{"", false},
	{"@example.com", false},
	{"user@", false},
	{"user", false},
	{".user@example.com", false},
	{"user.@example.com", false},
	{"us..er@example.com", false},
	{"user@example..com", false},
	{"user@.example.com", false},
	{"user@example.com.", false},
	{"a@b@c", false},
	{`"quoted"@example.com`, false},
	{"user@[192.0.2.1]", false},
	{"jürgen@example.de", false},
	{"user@bücher.example", false},
	{"user(comment)@example.com", false},
	{"user@exa mple.com", false},
	{"user\x00@example.com", false},
	{"user\x7f@example.com", false},
}

// checkPlainAddress fails when plainAddress takes s and net/mail would not
// return s itself: skipping net/mail for s would change what prepare
// accepts.
func checkPlainAddress(t *testing.T, s string) {
	t.Helper()
	if !plainAddress(s) {
		return
	}
	a, err := netmail.ParseAddress(s)
	if err != nil {
		t.Fatalf("plainAddress(%q) = true, but net/mail refuses it: %v", s, err)
	}
	if a.Address != s || a.Name != "" {
		t.Fatalf("plainAddress(%q) = true, but net/mail reads it as %q (name %q)", s, a.Address, a.Name)
	}
}

// TestPlainAddress checks which addresses skip net/mail in prepare, and that
// net/mail returns each of those unchanged.
func TestPlainAddress(t *testing.T) {
	t.Parallel()
	for _, c := range plainAddressCases {
		if got := plainAddress(c.addr); got != c.plain {
			t.Errorf("plainAddress(%q) = %v, want %v", c.addr, got, c.plain)
		}
		checkPlainAddress(t, c.addr)
	}
}

// FuzzPlainAddress: every address plainAddress takes is one net/mail
// accepts and returns unchanged.
func FuzzPlainAddress(f *testing.F) {
	for _, c := range plainAddressCases {
		f.Add(c.addr)
	}
	f.Fuzz(checkPlainAddress)
}

// TestPrepareAllocations counts the allocations of prepare for a plain
// message of a campaign (its From parsed once, the recipient's address
// plain ASCII): the recipient's address is not parsed again by net/mail,
// which allocated 5 times per message (6 in all before, 2 then). Neither
// of those two is left: the recipient's wire address is the address itself
// when its domain is ASCII (address.ToWire made it again), and the envelope
// and the To field write the angle brackets around it (bracketAddr)
// instead of a "<address>" made for them.
func TestPrepareAllocations(t *testing.T) {
	m := &Message{From: "Bench <bench@tidings.example>", To: "user0@bench.example", ToName: "Ada Lovelace",
		Subject: "Welcome", Text: "Hello", HTML: "<p>Hello</p>", MessageID: "c.42@tidings.example"}
	var err error
	got := testing.AllocsPerRun(100, func() { _, err = prepare(m) })
	if err != nil {
		t.Fatal(err)
	}
	const want = 0
	if got > want {
		t.Errorf("prepare allocates %.0f times per message, want at most %d", got, want)
	}
}
