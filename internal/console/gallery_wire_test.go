package console_test

import (
	"bytes"
	"html"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestGalleryHeadersAreTheWire: README, "QA: sign off every language": the
// gallery shows "subject, From, Reply-To, To and List-Unsubscribe as they
// go on the wire", and a picked recipient shows "exactly that person's
// message". For a Japanese name written with an ideographic space (U+3000,
// how Japanese names are commonly written), a name with a no-break space and
// a From written with two spaces, each field of the picked card is the one
// the worker's message carries to the SMTP server, as a mail client reads
// it (net/mail, mime.WordDecoder): the To names as written, not with ASCII
// spaces (found by the red team: the card showed Message.ToName and From as
// given while the sender's header cleaning changed them).
func TestGalleryHeadersAreTheWire(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	names := []string{"山田\u3000花子", "Zoë\u00a0Okafor"}
	w.Stage(t, consoletest.Spec{Name: "galwire", N: 2, Locales: []string{"ja", "fr"}, Names: names,
		From: "Altea  Café <community@altea.example>", Unsub: true})
	s := newSite(t, w, false)
	v := s.signIn(t, viewerToken)

	fieldRE := regexp.MustCompile(`<dt>(Subject|From|Reply-To|To|List-Unsubscribe)</dt><dd[^>]*>([^<]*)</dd>`)
	shown := map[string]map[string]string{} // email: field: what the card shows
	for i, loc := range []string{"ja", "fr"} {
		email := consoletest.Email(i, loc)
		code, body, _ := v.get("/c/galwire/gallery?r=" + url.QueryEscape(email))
		if code != http.StatusOK {
			t.Fatalf("gallery: %d", code)
		}
		picked, _, _ := strings.Cut(body[strings.Index(body, "The message to"):], "</section>")
		fields := map[string]string{}
		for _, m := range fieldRE.FindAllStringSubmatch(picked, -1) {
			fields[m[1]] = html.UnescapeString(m[2])
		}
		if len(fields) != 5 {
			t.Fatalf("the picked card of %s shows %d of the 5 header fields: %q", email, len(fields), fields)
		}
		shown[email] = fields
	}

	w.StartWorker(t)
	w.WaitState(t, "galwire", store.StateDone, 60*time.Second)
	got := 0
	for _, msg := range w.SMTP.Messages() {
		m, err := mail.ReadMessage(bytes.NewReader(msg.Data))
		if err != nil {
			t.Fatal(err)
		}
		to, err := mail.ParseAddress(m.Header.Get("To"))
		if err != nil {
			t.Fatalf("wire To %q: %v", m.Header.Get("To"), err)
		}
		fields, ok := shown[to.Address]
		if !ok {
			continue
		}
		got++
		a, err := mail.ParseAddress(fields["To"])
		if err != nil {
			t.Fatalf("gallery To %q: %v", fields["To"], err)
		}
		if to.Name != a.Name {
			t.Errorf("%s: the gallery shows To name %q (% x), the message went out with %q (% x)", to.Address, a.Name, a.Name, to.Name, to.Name)
		}
		subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		if err != nil {
			t.Fatal(err)
		}
		// One URI: the white space inside its brackets is a fold, not part
		// of it (RFC 2369).
		unsub := strings.Join(strings.Fields(m.Header.Get("List-Unsubscribe")), "")
		wire := map[string]string{"Subject": subject, "List-Unsubscribe": unsub}
		for _, f := range []string{"From", "Reply-To", "To"} {
			a, err := mail.ParseAddress(m.Header.Get(f))
			if err != nil {
				t.Fatalf("wire %s %q: %v", f, m.Header.Get(f), err)
			}
			wire[f] = a.Address
			if a.Name != "" {
				wire[f] = a.Name + " <" + a.Address + ">"
			}
		}
		for f, want := range wire {
			if fields[f] != want {
				t.Errorf("%s: the gallery shows %s %q, the message went out with %q", to.Address, f, fields[f], want)
			}
		}
	}
	if got != len(shown) {
		t.Fatalf("the server received %d of the %d messages", got, len(shown))
	}
}
