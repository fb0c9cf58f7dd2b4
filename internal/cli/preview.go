package cli

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/tidings-mail/tidings/internal/preview"
	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/worker"
)

type previewOptions struct {
	out   string
	serve string
}

func (a *app) cmdPreview() *cobra.Command {
	var o previewOptions
	c := &cobra.Command{
		Use:   "preview CAMPAIGN",
		Short: "Render every language to .eml/.html/.txt and an index.html gallery",
		Long: `preview renders the campaign's template in every catalog language, using one
real recipient of that language from the recipients file where one exists
(else sample data), and writes <lang>.eml, <lang>.html, <lang>.txt and an
index.html gallery showing every language side by side: subject, HTML, text,
the recipient used, and a red banner on every incomplete or refused language.

Exit 1 if any language that the recipients need is not covered.`,
		Example: `  tidings preview campaigns/altea.yaml
  tidings preview campaigns/altea.yaml --out /tmp/gallery --serve 127.0.0.1:8080`,
		Args: argsExact(1, "one campaign file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := a.loadCampaign(args[0])
			if err != nil {
				return err
			}
			if o.out == "" {
				o.out = filepath.Join("tidings-out", l.camp.Name, "preview")
			}
			res, err := a.runPreview(cmd.Context(), l, o.out)
			if err != nil {
				return err
			}
			res.WriteTable(a.stdout)
			fmt.Fprintf(a.stdout, "\nGallery: %s\n", absPath(res.Index))
			if o.serve != "" {
				if err := a.runConsole(cmd.Context(), consoleOptions{addr: o.serve, campaign: args[0]}); err != nil {
					return err
				}
			}
			if res.NeedsAttention() {
				return problems("some languages the recipients need are not covered")
			}
			return nil
		},
	}
	c.Flags().StringVar(&o.out, "out", "", "output directory (default tidings-out/CAMPAIGN-NAME/preview)")
	c.Flags().StringVar(&o.serve, "serve", "", "serve the console's gallery of this campaign file (rendered on demand) on this address, e.g. 127.0.0.1:8080, until interrupted")
	return c
}

// runPreview renders the gallery for a loaded campaign into out.
func (a *app) runPreview(ctx context.Context, l *loaded, out string) (*preview.Result, error) {
	next, done, err := l.validRecipients()
	if err != nil {
		return nil, err
	}
	defer done()
	compose := worker.NewComposer(l.camp)
	res, err := preview.Run(ctx, preview.Options{
		Engine:         l.engine,
		Campaign:       l.camp.Name,
		Data:           l.camp.Data,
		Recipients:     next,
		RecipientsName: l.recipientsPath(),
		Samples:        defaultSamples(),
		Out:            out,
		EML: func(lang string, r render.Rendered, to, toName string) ([]byte, error) {
			return emlFor(compose, r, to, toName)
		},
	})
	if err != nil {
		return nil, classify(err)
	}
	return res, nil
}
