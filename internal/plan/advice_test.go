package plan

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/golden"
	"github.com/tidings-mail/tidings/internal/render"
)

// TestEveryRejectSaysWhatToDo: each refused row's reason says what to put
// in the row or in which file (the catalog to add, the campaign key that
// maps it, the environment's allowlist), and that the row is not sent; the
// plan's lines name the file, the line and the field. The whole rendering
// of testdata/recipients.csv is in testdata/rejects.golden.
func TestEveryRejectSaysWhatToDo(t *testing.T) {
	t.Parallel()
	c := testCampaign(t, "locale_policy: {aliases: {gsw: de}}\n")
	eng := engine(t, render.Policy{Aliases: c.LocalePolicy.Aliases})
	tests := []struct {
		name, row    string
		code, field  string
		wantInReason []string
	}{
		{"empty locale", "e@example.com,", render.CodeEmpty, "locale",
			[]string{"empty locale: ", "write the recipient's language in the row's locale (such as de or pt-BR)", "locale_policy.missing_locale", "refused, not sent"}},
		{"a language without catalog", "p@example.com,pt", render.CodeNotCovered, "locale",
			[]string{"no catalog for pt: ", "nobody whose locale is pt is sent", "add pt.toml, with every message the template uses, to the locales directory (locales_dir)", "locale_policy.aliases", "remove these rows"}},
		{"a region of a language without catalog", "b@example.com,pt-BR", render.CodeNotCovered, "locale",
			[]string{"no catalog for pt-BR: ", "nobody whose locale is pt-BR is sent", "add pt.toml"}},
		{"a script no catalog is written in", "z@example.com,zh-Hant-TW", render.CodeNotCovered, "locale",
			[]string{"no catalog for zh-Hant-TW: ", "add zh-Hant.toml"}},
		{"an incomplete catalog", "i@example.com,it", render.CodeIncomplete, "locale",
			[]string{"incomplete: it lacks hello: ", "nobody whose locale is served in it is sent", "add the missing messages to locales/it.toml"}},
		{"an unparsable locale", "x@example.com,xx-garbage!!", render.CodeUnparsable, "locale",
			[]string{`unparsable locale "xx-garbage!!": `, "write a language tag in the row's locale (such as de or pt-BR)", "locale_policy.aliases", "refused, not sent"}},
		{"an address outside the allowlist", "o@elsewhere.example,de", "not-allowed-in-staging", "email",
			[]string{"o@elsewhere.example is not on the allowlist of environment staging: ", "allow:", "TIDINGS_ALLOW", "refused, not sent"}},
	}
	for _, tt := range tests {
		s, err := Run(context.Background(), Input{Campaign: c, Engine: eng, Env: staging(t),
			Recipients: strings.NewReader("email,locale\n" + tt.row + "\n"), RecipientsName: "r.csv"}, nil)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if s.Rows != 1 || s.Refused != 1 || len(s.Rejects) != 1 {
			t.Errorf("%s: %d rows, %d refused, %d rejects; want the row counted once, refused", tt.name, s.Rows, s.Refused, len(s.Rejects))
			continue
		}
		r := s.Rejects[0]
		if r.Code != tt.code || r.Field != tt.field || r.Line != 2 {
			t.Errorf("%s: line %d, code %q, field %q; want line 2, %q, %q", tt.name, r.Line, r.Code, r.Field, tt.code, tt.field)
		}
		for _, w := range tt.wantInReason {
			if !strings.Contains(r.Reason, w) {
				t.Errorf("%s: reason %q lacks %q", tt.name, r.Reason, w)
			}
		}
		var text bytes.Buffer
		if err := s.WriteText(&text, 20); err != nil {
			t.Fatal(err)
		}
		if want := "r.csv:2: " + tt.field + ": " + r.Reason; !strings.Contains(text.String(), want) {
			t.Errorf("%s: the plan lacks %q:\n%s", tt.name, want, text.String())
		}
	}

	s, _ := runFile(t, Input{Campaign: c, Engine: eng, Env: staging(t)}, "testdata/recipients.csv")
	var text bytes.Buffer
	if err := s.WriteText(&text, 100); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "rejects.golden"), text.String())
}
