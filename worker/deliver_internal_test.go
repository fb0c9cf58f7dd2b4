package worker

import (
	"context"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/locales"
	"github.com/tidings-mail/tidings/templates"
)

// TestDeliverRechecksTheLocaleRule: the locale rule is applied again to
// each claimed recipient before anything is rendered or sent (README,
// "The locale rule"). A locale the rule now refuses, or one that now
// resolves to another language than the one approved at staging, is
// recorded refused with the rule's code and a response that says it was
// the rule at send time. A row the template cannot be rendered with is
// invalid, code render-error. Nothing is sent (deliver returns before it takes
// a connection: the run has none, and the pool is nil).
func TestDeliverRechecksTheLocaleRule(t *testing.T) {
	t.Parallel()
	eng, err := render.New(render.Config{Templates: templates.FS, Locales: locales.FS, Template: "welcome", DefaultLocale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	r := &run{w: &Worker{}, cs: &campaignState{name: "c", engine: eng, meta: &store.Meta{}, camp: &campaign.Campaign{}}}
	tests := []struct {
		locale, lang string
		kind         store.Kind
		code, resp   string // resp: the start of the response
	}{
		{"xx-!!", "de", store.KindRefused, render.CodeUnparsable, "locale rule at send time: unparsable locale"},
		{"", "en", store.KindRefused, render.CodeEmpty, "locale rule at send time: empty locale"},
		{"tlh", "de", store.KindRefused, render.CodeNotCovered, "locale rule at send time: not-covered"},
		// The rule passes, the row lacks a column the template reads: invalid.
		{"de", "de", store.KindInvalid, "render-error", "the template cannot be rendered with this row: "},
		{"de", "fr", store.KindRefused, "lang-changed", `locale rule at send time: "de" now resolves to de, but fr was approved at staging`},
	}
	for _, tt := range tests {
		c := r.compose(0, &store.Recipient{ID: "id1", Email: "a@example.com", Locale: tt.locale, Lang: tt.lang})
		if c.msg != nil {
			t.Fatalf("%q: composed a message, want a record", tt.locale)
		}
		rec, why := r.deliver(context.Background(), c, nil)
		if why != stopNone || rec.Kind == "" {
			t.Fatalf("%q: stopped (%v), want a record", tt.locale, why)
		}
		if rec.Kind != tt.kind || rec.Code != tt.code || !strings.HasPrefix(rec.Response, tt.resp) {
			t.Errorf("%q approved as %s: %s, code %q, response %q; want %s, %q, %q...", tt.locale, tt.lang, rec.Kind, rec.Code, rec.Response, tt.kind, tt.code, tt.resp)
		}
	}
}
