package cli

import (
	"fmt"
	"net"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/worker"
)

func (a *app) cmdPreview() *cobra.Command {
	var out, serve, viewers string
	c := withHelp(&cobra.Command{
		Use:   "preview CAMPAIGN",
		Short: "Render every language to .eml/.html/.txt and an index.html gallery",
		Args:  argsExact(1, "one campaign file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := load(args[0])
			if err != nil {
				return err
			}
			if out == "" {
				out = filepath.Join("tidings-out", b.Campaign.Name, "preview")
			}
			res, err := b.Preview(cmd.Context(), out, worker.PreviewComposer(b.Campaign, ""))
			if err != nil {
				return bundleError(err)
			}
			res.WriteTable(a.stdout)
			fmt.Fprintf(a.stdout, "\nGallery: %s\n", launch.Abs(res.Index))
			if note := res.StaleNote(out); note != "" {
				fmt.Fprintln(a.stderr, "tidings: warning: "+note)
			}
			if host, port, err := net.SplitHostPort(serve); err == nil && host == "" {
				serve = net.JoinHostPort("127.0.0.1", port) // every interface must be asked for (0.0.0.0:PORT)
			}
			if serve != "" {
				if err := a.runConsole(cmd.Context(), consoleOptions{addr: serve, campaign: args[0], viewerFile: viewers}); err != nil {
					return err
				}
			}
			if res.NeedsAttention() {
				return problems("some languages the recipients need are not covered")
			}
			return nil
		},
	})
	c.Flags().StringVar(&out, "out", "", "output directory (default tidings-out/CAMPAIGN-NAME/preview)")
	c.Flags().StringVar(&serve, "serve", "", "serve the console's gallery of this campaign file (rendered on demand) on this address until interrupted: :8080 is loopback, 0.0.0.0:8080 every interface (with a warning; needs --viewer-tokens)")
	c.Flags().StringVar(&viewers, "viewer-tokens", "", "with --serve: file of viewer tokens, one \"NAME TOKEN\" per line")
	return c
}
