package plan_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing/fstest"

	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/plan"
	"github.com/tidings-mail/tidings/internal/render"
)

func ExampleRun() {
	c, _ := campaign.Parse([]byte("name: hello\nenvironment: staging\ntemplate: m\nrecipients: r.csv\nfrom: a@altea.example\nrate: 10/s\nbatches: {canary_per_locale: 1, size: 2, interval: 0s}\n"), "hello.yaml")
	eng, err := render.New(render.Config{
		Templates: fstest.MapFS{
			"m/subject.tmpl": {Data: []byte(`{{t "s" .}}`)},
			"m/text.tmpl":    {Data: []byte(`{{t "s" .}}`)},
			"m/html.tmpl":    {Data: []byte(`{{t "s" .}}`)},
		},
		Locales: fstest.MapFS{
			"en.toml": {Data: []byte("s = \"Hello\"\n")},
			"de.toml": {Data: []byte("s = \"Hallo\"\n")},
		},
		Template: "m",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	recipients := "email,locale\na@example.com,de-AT\nb@example.com,en\nc@example.com,pt\nd@example.com,de\n"
	s, err := plan.Run(context.Background(), plan.Input{Campaign: c, Engine: eng, Recipients: strings.NewReader(recipients), RecipientsName: "r.csv"},
		func(a plan.Accepted) error {
			fmt.Println(a.Line, a.Email, a.Match.Lang, "batch", a.Batch)
			return nil
		})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = s.WriteText(os.Stdout, 10)
	// Output:
	// 2 a@example.com de batch 0
	// 3 b@example.com en batch 0
	// 5 d@example.com de batch 1
	// Campaign hello, recipients r.csv
	// 4 rows: 3 accepted, 1 refused, 0 invalid
	//
	// LOCALE  LANGUAGE  VIA    ACCEPTED  REFUSED  REASON
	// de      de        exact  1         0
	// de-AT   de        match  1         0
	// en      en        exact  1         0
	// pt      -         -      0         1        not-covered: no catalog for pt
	//
	// Refused and invalid rows (1):
	//   r.csv:4: locale: not-covered: no catalog for pt: nobody whose locale is pt is sent; add pt.toml, with every message the template uses, to the locales directory (locales_dir), or map pt under locale_policy.aliases, or remove these rows
	//
	// Batch plan: 2 batches
	//   canary: 2 recipients (de 1, en 1)
	//   then 1 regular batch of 1, back to back
	// Estimate: 300ms at 10/s
}
