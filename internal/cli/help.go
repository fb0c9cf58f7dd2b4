package cli

import (
	"embed"
	"strings"

	"github.com/spf13/cobra"
)

// helpFiles holds the help of each command, help/NAME.txt: its description,
// then a line "Examples:" and its examples, as `tidings NAME --help` prints
// them.
//
//go:embed help/*.txt
var helpFiles embed.FS

// withHelp sets c's Long and Example from help/NAME.txt, NAME being c's
// name, and returns c.
func withHelp(c *cobra.Command) *cobra.Command {
	b, err := helpFiles.ReadFile("help/" + c.Name() + ".txt")
	if err != nil {
		panic(err) // a command without its file; TestEveryCommandHasExamples says which
	}
	c.Long, c.Example, _ = strings.Cut(strings.TrimSuffix(string(b), "\n"), "\n\nExamples:\n")
	return c
}
