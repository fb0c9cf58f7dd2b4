package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// output is the one machine-output convention of every command that has
// one (plan, status, report, doctor, check): --format text|json (csv|json
// for report), and --json, an alias of --format json. JSON is one object
// per line; its schema is documented in docs/cli-notes.md.
type output struct {
	format string
	json   bool
}

// addOutput adds --format (default def, one of allowed) and --json to c;
// when c runs, o.format is the format chosen (a disagreement or an unknown
// format is a usage error).
func addOutput(c *cobra.Command, o *output, def string, allowed ...string) {
	c.Flags().StringVar(&o.format, "format", def, "output format: "+strings.Join(allowed, " or "))
	c.Flags().BoolVar(&o.json, "json", false, "print JSON (the same as --format json)")
	c.PreRunE = func(*cobra.Command, []string) error {
		switch {
		case o.json && o.format != def && o.format != "json":
			return configError(fmt.Errorf("--json and --format %s disagree: give one of them", o.format))
		case o.json:
			o.format = "json"
		case !slices.Contains(allowed, o.format):
			return configError(fmt.Errorf("--format %q: use %s", o.format, strings.Join(allowed, " or ")))
		}
		return nil
	}
}

// print writes v as one line of JSON when the format is json; otherwise
// text writes it.
func (o *output) print(w io.Writer, v any, text func() error) error {
	if o.format == "json" {
		return writeJSON(w, v)
	}
	return text()
}

// writeJSON writes v as one line of JSON.
func writeJSON(w io.Writer, v any) error {
	if err := json.NewEncoder(w).Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}
