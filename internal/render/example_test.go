package render_test

import (
	"errors"
	"fmt"

	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/locales"
	"github.com/tidings-mail/tidings/templates"
)

func Example() {
	e, err := render.New(render.Config{
		Templates:     templates.FS,
		Locales:       locales.FS,
		Template:      "welcome",
		DefaultLocale: "en",
		Policy:        render.Policy{Aliases: map[string]string{"gsw": "de"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, locale := range []string{"de-CH", "gsw", "pt-BR", ""} {
		m, err := e.Resolve(locale)
		if errors.Is(err, render.ErrLocaleNotCovered) {
			fmt.Printf("%q refused: %v\n", locale, err)
			continue
		}
		r, err := e.Render(m, render.Data{
			Name:   "Jürgen",
			Email:  "juergen@example.de",
			Fields: map[string]string{"posts": "1"},
			Data:   map[string]any{"reregister_url": "https://altea.example/re-register"},
		})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%q -> %s via %s: %s\n", locale, m.Lang, m.Via, r.Subject)
	}
	// Output:
	// "de-CH" -> de via match: Bitte registrieren Sie sich neu: die Altea-Community ist umgezogen
	// "gsw" -> de via alias: Bitte registrieren Sie sich neu: die Altea-Community ist umgezogen
	// "pt-BR" refused: not-covered: no catalog for pt-BR: nobody whose locale is pt-BR is sent; add pt.toml, with every message the template uses, to the locales directory (locales_dir), or map pt-BR under locale_policy.aliases, or remove these rows
	// "" refused: empty locale: write the recipient's language in the row's locale (such as de or pt-BR), or map empty locales with locale_policy.missing_locale; until then the row is refused, not sent
}
