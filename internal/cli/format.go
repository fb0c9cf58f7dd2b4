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
	format  string
	json    bool
	def     string
	allowed []string
}

// addOutput adds --format (default def, one of allowed) and --json to c.
func addOutput(c *cobra.Command, o *output, def string, allowed ...string) {
	o.def, o.allowed = def, allowed
	c.Flags().StringVar(&o.format, "format", def, "output format: "+strings.Join(allowed, " or "))
	c.Flags().BoolVar(&o.json, "json", false, "print JSON (the same as --format json)")
}

// get returns the chosen format, or a usage error.
func (o *output) get() (string, error) {
	if o.json {
		if o.format != o.def && o.format != "json" {
			return "", configError(fmt.Errorf("--json and --format %s disagree: give one of them", o.format))
		}
		return "json", nil
	}
	if !slices.Contains(o.allowed, o.format) {
		return "", configError(fmt.Errorf("--format %q: use %s", o.format, strings.Join(o.allowed, " or ")))
	}
	return o.format, nil
}

// writeJSON writes v as one line of JSON.
func writeJSON(w io.Writer, v any) error {
	if err := json.NewEncoder(w).Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}
