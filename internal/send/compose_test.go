package send_test

import (
	"fmt"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/send"
)

func TestMessageID(t *testing.T) {
	t.Parallel()
	a := send.MessageID("altea", "u1", "altea.example")
	if a != send.MessageID("altea", "u1", "altea.example") {
		t.Errorf("MessageID is not deterministic")
	}
	if a == send.MessageID("altea", "u2", "altea.example") || a == send.MessageID("other", "u1", "altea.example") {
		t.Errorf("MessageID does not tell recipients or campaigns apart")
	}
	if !strings.HasPrefix(a, "altea.") || !strings.HasSuffix(a, "@altea.example") || len(a) != len("altea.")+16+len("@altea.example") {
		t.Errorf("MessageID = %q, want altea.<16 hex>@altea.example", a)
	}
}

// TestMessageIDValue pins the Message-ID of one recipient: a message sent
// again after a crash must carry the id of the first (sha1 of the id, its
// first 8 bytes in hex), and each id costs one allocation.
func TestMessageIDValue(t *testing.T) {
	const want = "altea.c5ea71554c774daf@altea.example" // sha1("u1") = c5ea71554c774daf...
	if got := send.MessageID("altea", "u1", "altea.example"); got != want {
		t.Errorf("MessageID = %q, want %q", got, want)
	}
	if a := testing.AllocsPerRun(100, func() { _ = send.MessageID("altea", "u1", "altea.example") }); a > 1 {
		t.Errorf("MessageID allocates %.0f times, want 1", a)
	}
}

func TestComposer(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	content := send.Content{Lang: "de", Subject: "Willkommen", Text: "Hallo", HTML: "<p>Hallo</p>"}
	tests := []struct {
		name      string
		cfg       send.ComposerConfig
		wantIDDom string
		wantUnsub string
		wantPost  bool
	}{
		{"plain", send.ComposerConfig{Campaign: "altea", From: "Altea <community@altea.example>"}, "altea.example", "", false},
		{"reply-to and https unsubscribe", send.ComposerConfig{
			Campaign: "altea", From: "community@altea.example", ReplyTo: "Support <support@altea.example>",
			ListUnsubscribe: "https://altea.example/unsub?id={id}&e={email}",
		}, "altea.example", "<https://altea.example/unsub?id=u%201&e=z%C3%B6e%40example.org>", true},
		{"mailto unsubscribe", send.ComposerConfig{
			Campaign: "altea", From: "community@altea.example", ListUnsubscribe: "mailto:unsub@altea.example?subject={id}",
		}, "altea.example", "<mailto:unsub@altea.example?subject=u%201>", false},
		{"idn sender", send.ComposerConfig{Campaign: "b", From: "Bücher <news@bücher.example>"}, "xn--bcher-kva.example", "", false},
		{"message id domain", send.ComposerConfig{Campaign: "b", From: "news@altea.example", MessageIDDomain: "mid.altea.example"}, "mid.altea.example", "", false},
		// The longest name a campaign may have (63) and a sender's domain
		// as long as SMTP allows (254-byte address): every message still
		// gets its Message-ID.
		{"longest name and domain", send.ComposerConfig{Campaign: strings.Repeat("n", 63), From: "n@" + longDomain}, longDomain, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := send.NewComposer(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			m := c.Message("u 1", "zöe@example.org", "Zoë", content, now)
			if m.From != tt.cfg.From || m.ReplyTo != tt.cfg.ReplyTo || m.To != "zöe@example.org" || m.ToName != "Zoë" ||
				m.Subject != content.Subject || m.Text != content.Text || m.HTML != content.HTML || !m.Date.Equal(now) {
				t.Errorf("message %+v does not carry the config and content", m)
			}
			if want := send.MessageID(tt.cfg.Campaign, "u 1", tt.wantIDDom); m.MessageID != want {
				t.Errorf("Message-ID %q, want %q", m.MessageID, want)
			}
			raw, _, err := send.BuildForTest(m, true, "b")
			if err != nil {
				t.Fatalf("build: %v", err)
			}
			msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			h := msg.Header
			if h.Get("X-Tidings-Campaign") != tt.cfg.Campaign || h.Get("Content-Language") != "de" {
				t.Errorf("X-Tidings-Campaign %q, Content-Language %q", h.Get("X-Tidings-Campaign"), h.Get("Content-Language"))
			}
			if got := strings.Join(strings.Fields(h.Get("List-Unsubscribe")), ""); got != tt.wantUnsub {
				t.Errorf("List-Unsubscribe %q, want %q", got, tt.wantUnsub)
			}
			if got := h.Get("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"; got != tt.wantPost {
				t.Errorf("List-Unsubscribe-Post %q, want it %v", h.Get("List-Unsubscribe-Post"), tt.wantPost)
			}
		})
	}
}

// longDomain is a 251-byte domain of 63-byte labels, the longest a
// one-letter local part leaves (254 bytes in all).
var longDomain = strings.Repeat(strings.Repeat("d", 62)+".", 4)[:247] + ".com"

func TestNewComposerRefusesBadConfig(t *testing.T) {
	t.Parallel()
	for _, cfg := range []send.ComposerConfig{
		{From: "a@altea.example"},
		{Campaign: "has space", From: "a@altea.example"},
		{Campaign: "c", From: "not an address"},
		{Campaign: "c", From: "a@altea.example", ReplyTo: "nope"},
		{Campaign: "c", From: "a@altea.example", ListUnsubscribe: "ftp://altea.example/u"},
		{Campaign: "c", From: "a@altea.example", MessageIDDomain: "bad domain"},
		// SMTP cannot carry a local part over 64 bytes: refused here, not
		// on every recipient's message.
		{Campaign: "c", From: "a@altea.example", ReplyTo: strings.Repeat("r", 65) + "@altea.example"},
		{Campaign: "c", From: strings.Repeat("f", 65) + "@altea.example", MessageIDDomain: "altea.example"},
	} {
		if _, err := send.NewComposer(cfg); err == nil {
			t.Errorf("NewComposer(%+v) accepted it", cfg)
		}
	}
}

// A Composer turns a campaign's settings and one recipient's rendering into
// the message to send.
func ExampleComposer() {
	c, err := send.NewComposer(send.ComposerConfig{
		Campaign:        "altea-reregistration",
		From:            "Altea Community <community@altea.example>",
		ListUnsubscribe: "https://altea.example/unsubscribe?id={id}",
	})
	if err != nil {
		panic(err)
	}
	m := c.Message("u42", "zoe@example.org", "Zoë", send.Content{
		Lang: "fr", Subject: "Bienvenue", Text: "Bonjour Zoë", HTML: "<p>Bonjour Zoë</p>",
	}, time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
	fmt.Println(m.MessageID)
	for _, h := range m.Headers {
		fmt.Printf("%s: %s\n", h.Name, h.Value)
	}
	// Output:
	// altea-reregistration.692a91a028476ee4@altea.example
	// X-Tidings-Campaign: altea-reregistration
	// Content-Language: fr
	// List-Unsubscribe: <https://altea.example/unsubscribe?id=u42>
}

// TestComposerMessageAllocations: a message of a campaign without
// List-Unsubscribe costs two allocations, the Message with the room for its
// headers (one object) and its Message-ID.
func TestComposerMessageAllocations(t *testing.T) {
	c, err := send.NewComposer(send.ComposerConfig{Campaign: "altea", From: "Altea <community@altea.example>"})
	if err != nil {
		t.Fatal(err)
	}
	content := send.Content{Lang: "de", Subject: "Willkommen", Text: "Hallo", HTML: "<p>Hallo</p>"}
	now := time.Now()
	if a := testing.AllocsPerRun(100, func() { _ = c.Message("u1", "zoe@example.org", "Zoë", content, now) }); a > 2 {
		t.Errorf("Composer.Message allocates %.0f times, want 2", a)
	}
}
