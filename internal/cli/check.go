package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tidings-mail/tidings/internal/check"
	"github.com/tidings-mail/tidings/internal/render"
)

func (a *app) cmdCheck() *cobra.Command {
	var o check.Options
	var out output
	c := withHelp(&cobra.Command{
		Use:   "check [CAMPAIGN]",
		Short: "Lint templates and catalogs: literal prose, missing keys, plural forms, placeholder mismatches",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Campaign = args[0] // only the campaign's template
			}
			res, err := check.Inspect(cmd.Context(), o)
			var de *check.DirError
			var nc *render.NoCatalogError
			switch {
			case errors.As(err, &de):
				return configError(fmt.Errorf("%s directory %s does not exist: pass --%s DIR, or run tidings check where %s/ is", de.What, de.Dir, de.What, de.What))
			case errors.As(err, &nc) && o.Campaign == "": // the flag, not a campaign file's key
				return configError(fmt.Errorf("--default-locale %s: %s", o.DefaultLocale, nc.Msg()))
			case err != nil:
				return bundleError(err)
			}
			if err := out.print(a.stdout, res, func() error { return res.WriteText(a.stdout) }); err != nil {
				return err
			}
			if res.Counted > 0 {
				return problems("%d problem(s) found", res.Counted)
			}
			return nil
		},
	})
	c.Flags().StringVar(&o.TemplatesDir, "templates", "templates", "templates directory (one folder per template)")
	c.Flags().StringVar(&o.LocalesDir, "locales", "locales", "catalogs directory (<lang>.toml, .json or .yaml)")
	c.Flags().StringVar(&o.DefaultLocale, "default-locale", "en", "the language the templates were written in")
	addOutput(c, &out, "text", "text", "json")
	return c
}
