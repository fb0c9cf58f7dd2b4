package send_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/send"
)

// TestShow writes messages with WriteTo and reads them back with Show: the
// values a gallery card shows are the ones on the wire, written as the
// author wrote them (Unicode spaces, runs of spaces) but for what a header
// cannot carry (a line break is one space).
func TestShow(t *testing.T) {
	t.Parallel()
	long := "https://altea.example/unsub?t=" + strings.Repeat("a1", 60)
	tests := []struct {
		name string
		edit func(m *send.Message)
		want send.Shown
	}{
		{"sample", func(*send.Message) {}, send.Shown{
			Subject: "Willkommen zurück 🎉 – bitte neu registrieren",
			From:    "Altea Community <community@altea.example>", ReplyTo: "support@altea.example",
			To: "Zoë Müller 🎉 <zoe@example.org>", ListUnsubscribe: "<https://altea.example/unsub?id=42>",
		}},
		{"unicode spaces", func(m *send.Message) {
			m.Subject = "Action requise\u00a0: réinscrivez-vous\u202f!"
			m.ToName = "山田\u3000花子"
			m.From = `"Altea  Café" <community@altea.example>`
			m.ReplyTo = ""
		}, send.Shown{
			Subject: "Action requise\u00a0: réinscrivez-vous\u202f!",
			From:    "Altea  Café <community@altea.example>",
			To:      "山田\u3000花子 <zoe@example.org>", ListUnsubscribe: "<https://altea.example/unsub?id=42>",
		}},
		{"hostile", func(m *send.Message) {
			m.Subject = " Grüße\r\nBcc: victim@evil.test\u2028x "
			m.ToName = "Eve\nBcc: victim@evil.test"
			m.Headers = []send.Header{{Name: "List-Unsubscribe", Value: "<mailto:u@altea.example>, <" + long + "\r\nBcc: x@y>"}}
		}, send.Shown{
			Subject: "Grüße Bcc: victim@evil.test x",
			From:    "Altea Community <community@altea.example>", ReplyTo: "support@altea.example",
			To:              "Eve Bcc: victim@evil.test <zoe@example.org>",
			ListUnsubscribe: "<mailto:u@altea.example>, <" + long + "%0D%0ABcc:%20x@y>",
		}},
		{"idn", func(m *send.Message) {
			m.From = "Bücher <shop@bücher.example>"
			m.ToName = ""
			m.Headers = nil
		}, send.Shown{
			Subject: "Willkommen zurück 🎉 – bitte neu registrieren",
			From:    "Bücher <shop@xn--bcher-kva.example> (bücher.example)", ReplyTo: "support@altea.example",
			To: "zoe@example.org",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := sampleMessage("zoe@example.org")
			tt.edit(m)
			var b bytes.Buffer
			if _, err := m.WriteTo(&b); err != nil {
				t.Fatal(err)
			}
			got, err := send.Show(b.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Show:\n got %+q\nwant %+q\n%s", got, tt.want, b.String())
			}
		})
	}
	if _, err := send.Show([]byte("no header")); err == nil {
		t.Error("Show of a message without a header: no error")
	}
}
