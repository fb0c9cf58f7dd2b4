package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tidings-mail/tidings/internal/check"
)

type checkOptions struct {
	templates, locales, defaultLocale string
	// template limits the check to the campaign's template (empty: all).
	template string
}

func (a *app) cmdCheck() *cobra.Command {
	var o checkOptions
	c := &cobra.Command{
		Use:   "check [CAMPAIGN]",
		Short: "Lint templates and catalogs: missing keys, plural forms, placeholder mismatches",
		Long: `check lints every template and every catalog: parse errors, message keys a
template uses but a language lacks, unused keys, placeholders that differ from
the default language, and missing CLDR plural forms. Problems are printed as
file:line: message, followed by a summary per language. Exit 1 on any problem,
so it can run as a CI step in the repository that holds your templates.

With CAMPAIGN, the campaign file's templates_dir, locales_dir and
default_locale are used.`,
		Example: `  tidings check
  tidings check --templates templates --locales locales
  tidings check campaigns/altea.yaml`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				l, err := a.loadCampaignForCheck(args[0])
				if err != nil {
					return err
				}
				o.templates, o.locales, o.defaultLocale = l.camp.Path(l.camp.TemplatesDir), l.camp.Path(l.camp.LocalesDir), l.camp.DefaultLocale
				o.template = l.camp.Template
			}
			n, err := check.Run(cmd.Context(), a.stdout, check.Options{
				TemplatesDir: o.templates, LocalesDir: o.locales, DefaultLocale: o.defaultLocale, Template: o.template,
			})
			if err != nil {
				if len(args) == 1 {
					err = fmt.Errorf("%s: %w", args[0], err)
				}
				return configError(err)
			}
			if n > 0 {
				return problems("%d problem(s) found", n)
			}
			return nil
		},
	}
	c.Flags().StringVar(&o.templates, "templates", "templates", "templates directory (one folder per template)")
	c.Flags().StringVar(&o.locales, "locales", "locales", "catalogs directory (<lang>.toml, .json or .yaml)")
	c.Flags().StringVar(&o.defaultLocale, "default-locale", "en", "the language the templates were written in")
	return c
}
