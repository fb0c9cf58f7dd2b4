package cli

import (
	"fmt"
	"os"
	"slices"
	"testing"
)

// TestMain fails the package's tests when one left a file in the package
// directory (a command's default output, such as plan's
// CAMPAIGN.rejects.csv, written where the test runs): a test writes only
// under its t.TempDir(), and git status stays clean after go test.
func TestMain(m *testing.M) {
	before, err := dirNames(".")
	if err != nil {
		fmt.Fprintln(os.Stderr, "list the package directory:", err)
		os.Exit(1)
	}
	code := m.Run()
	after, err := dirNames(".")
	if err != nil {
		fmt.Fprintln(os.Stderr, "list the package directory:", err)
		os.Exit(1)
	}
	for _, n := range after {
		if !slices.Contains(before, n) {
			fmt.Fprintf(os.Stderr, "a test left %s in the package directory: write under t.TempDir() (give the command its output path), and remove the file\n", n)
			code = max(code, 1)
		}
	}
	os.Exit(code)
}

// dirNames returns the names in directory dir.
func dirNames(dir string) ([]string, error) {
	es, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out, nil
}
