package cli

import (
	"fmt"
	"net"
	"path/filepath"

	"github.com/spf13/cobra"

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
			b, err := load(args[0])
			if err != nil {
				return err
			}
			if o.out == "" {
				o.out = filepath.Join("tidings-out", b.Campaign.Name, "preview")
			}
			res, err := b.Preview(cmd.Context(), o.out, worker.NewComposer(b.Campaign))
			if err != nil {
				return bundleError(err)
			}
			res.WriteTable(a.stdout)
			fmt.Fprintf(a.stdout, "\nGallery: %s\n", absPath(res.Index))
			if o.serve != "" {
				// A port alone is loopback: every interface must be asked for
				// (0.0.0.0:PORT), and the console then warns.
				if host, port, err := net.SplitHostPort(o.serve); err == nil && host == "" {
					o.serve = net.JoinHostPort("127.0.0.1", port)
				}
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
	c.Flags().StringVar(&o.serve, "serve", "", "serve the console's gallery of this campaign file (rendered on demand) on this address until interrupted: :8080 is loopback, 0.0.0.0:8080 every interface (with a warning)")
	return c
}
