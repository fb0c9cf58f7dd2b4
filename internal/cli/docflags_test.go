package cli

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// flagRE is a long flag as the docs write it.
var flagRE = regexp.MustCompile(`--[a-z][a-z0-9-]*`)

// commandsByName is the root's commands an operator runs, by name.
func commandsByName(t *testing.T) (*cobra.Command, map[string]*cobra.Command) {
	t.Helper()
	a := &app{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}
	root := a.root()
	cmds := map[string]*cobra.Command{}
	for _, c := range root.Commands() {
		if c.Runnable() && c.Name() != "help" {
			cmds[c.Name()] = c
		}
	}
	if len(cmds) < 15 {
		t.Fatalf("only %d commands: %v", len(cmds), slices.Sorted(func(yield func(string) bool) {
			for n := range cmds {
				if !yield(n) {
					return
				}
			}
		}))
	}
	return root, cmds
}

// visibleFlags is the names (--name) of a flag set's flags that --help shows.
func visibleFlags(fs *pflag.FlagSet) map[string]bool {
	out := map[string]bool{}
	fs.VisitAll(func(f *pflag.Flag) {
		if !f.Hidden && f.Name != "help" {
			out["--"+f.Name] = true
		}
	})
	return out
}

// readmeSection is the README's section under heading (## ...), up to the
// next section.
func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, s, ok := strings.Cut(string(b), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README.md has no section %q", heading)
	}
	s, _, _ = strings.Cut(s, "\n## ")
	return s
}

// documentedFlags reads the table of the README's "Commands and exit codes":
// for each command, the flags its row writes. A row's first cell is one or
// more `...` segments: `tidings CMD ...` or `CMD ...` (a command of the same
// row, such as `resume [--reason TEXT]` beside `tidings pause CAMPAIGN --env
// ENV ...`, which takes the first one's --env) names a command; a segment
// that starts with a flag (`--campaign FILE`) adds to the command before it.
func documentedFlags(t *testing.T, cmds map[string]*cobra.Command) map[string]map[string]bool {
	t.Helper()
	seg := regexp.MustCompile("`([^`]*)`")
	doc := map[string]map[string]bool{}
	for _, line := range strings.Split(readmeSection(t, "## Commands and exit codes"), "\n") {
		if !strings.HasPrefix(line, "| `tidings ") {
			continue
		}
		cell := strings.SplitN(strings.ReplaceAll(line, `\|`, "/"), "|", 3)[1]
		var cmd string
		var rowEnv bool
		for i, m := range seg.FindAllStringSubmatch(cell, -1) {
			words := strings.Fields(m[1])
			if len(words) == 0 {
				continue
			}
			if words[0] == "tidings" && len(words) > 1 {
				words = words[1:]
			}
			switch _, known := cmds[words[0]]; {
			case known:
				cmd = words[0]
				if doc[cmd] == nil {
					doc[cmd] = map[string]bool{}
				}
				if i > 0 && rowEnv {
					doc[cmd]["--env"] = true
				}
			case strings.HasPrefix(words[0], "--") && cmd != "":
			default:
				continue // a word of the cell's prose, or help's COMMAND
			}
			for _, f := range flagRE.FindAllString(m[1], -1) {
				doc[cmd][f] = true
				if i == 0 && f == "--env" {
					rowEnv = true
				}
			}
		}
	}
	return doc
}

// TestCommandsTableNamesEveryFlag holds the README's table of commands to
// the binary: every flag a row writes is a flag of that command (or of
// tidings itself, as --version), and every flag a command's --help shows is
// in its row (--json needs no mention where --format is: the README says
// every --format json has it as an alias). And the README's global flags
// are the root's.
func TestCommandsTableNamesEveryFlag(t *testing.T) {
	t.Parallel()
	root, cmds := commandsByName(t)
	doc := documentedFlags(t, cmds)
	rootFlags := visibleFlags(root.Flags())
	rootFlags["--version"] = true // cobra adds it when the command runs
	for name, c := range cmds {
		have := visibleFlags(c.LocalNonPersistentFlags())
		documented, ok := doc[name]
		if !ok {
			t.Errorf("README's Commands and exit codes has no row for tidings %s", name)
			continue
		}
		for f := range documented {
			if !have[f] && !rootFlags[f] {
				t.Errorf("README's row of tidings %s names %s, which tidings %s --help does not have", name, f, name)
			}
		}
		for f := range have {
			if !documented[f] && (f != "--json" || !documented["--format"]) {
				t.Errorf("tidings %s has %s, which README's row of tidings %s does not name", name, f, name)
			}
		}
	}
	global := readmeSection(t, "## Commands and exit codes")
	_, global, _ = strings.Cut(global, "Global flags:")
	global, _, _ = strings.Cut(global, "`--env` is required")
	want := slices.Sorted(func(yield func(string) bool) {
		for f := range visibleFlags(root.PersistentFlags()) {
			if !yield(f) {
				return
			}
		}
	})
	got := flagRE.FindAllString(global, -1)
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("README's Global flags are %v; tidings --help's are %v", got, want)
	}
}

// TestDocsNameOnlyFlagsTheCommandHas: wherever README.md or docs/*.md
// write a command with a flag (`tidings report CAMPAIGN --env E --outcome
// in-doubt`, or, in docs/cli.md, `report --format json`), the command has
// that flag: an operator copies them as they are.
func TestDocsNameOnlyFlagsTheCommandHas(t *testing.T) {
	t.Parallel()
	_, cmds := commandsByName(t)
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range cmds {
			if !yield(n) {
				return
			}
		}
	})
	// `tidings CMD ARG... --flag ...` or `CMD ARG... --flag ...` at the
	// start of a code span; ARG is anything but a flag.
	mention := regexp.MustCompile("`(?:tidings )?(" + strings.Join(names, "|") + `)((?: +[^ ` + "`" + `-][^ ` + "`" + `]*)*(?: +--[a-z][^` + "`" + `]*)?)` + "`")
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join(repoRoot(t), "README.md"))
	checked := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.ReplaceAll(string(b), "\n", " ") // a code span may wrap
		for _, m := range mention.FindAllStringSubmatch(text, -1) {
			c := cmds[m[1]]
			for _, fl := range flagRE.FindAllString(m[2], -1) {
				checked++
				// a hidden flag (send --cpuprofile, in docs/benchmarks.md) is one too
				if c.Flags().Lookup(fl[2:]) == nil && c.InheritedFlags().Lookup(fl[2:]) == nil && fl != "--help" {
					t.Errorf("%s: %s names %s, which tidings %s does not have", filepath.Base(f), m[0], fl, m[1])
				}
			}
		}
	}
	if checked < 100 {
		t.Errorf("checked only %d flags written with their command in README.md and docs/*.md: the pattern no longer finds them", checked)
	}
}
