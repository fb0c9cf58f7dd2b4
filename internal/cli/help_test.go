package cli

import (
	"io"
	"io/fs"
	"path"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/report"
)

func TestEveryCommandHasExamples(t *testing.T) {
	t.Parallel()
	a := &app{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}
	cmds := a.root().Commands()
	if len(cmds) < 10 {
		t.Fatalf("only %d commands", len(cmds))
	}
	for _, c := range cmds {
		if !c.Runnable() {
			continue // a help topic such as "environments"
		}
		t.Run(c.Name(), func(t *testing.T) {
			t.Parallel()
			r := cli(t, nil, c.Name(), "--help")
			if r.code != 0 {
				t.Fatalf("--help: want exit 0\n%s", r)
			}
			_, ex, ok := strings.Cut(r.stdout, "Examples:\n")
			if !ok || !strings.Contains(ex, "tidings "+c.Name()) {
				t.Errorf("%s --help has no Examples: section using the command\n%s", c.Name(), r)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := [][]string{
		{"no-such-command"},
		{"plan"},
		{"plan", "a.yaml", "b.yaml"},
		{"send", "--no-such-flag"},
		{"status", "--env"},
		{"pause"},
		{"help", "no-such-topic"},
	}
	for _, args := range tests {
		r := cli(t, nil, args...)
		if r.code != 2 || strings.Count(r.stderr, "tidings:") < 1 || strings.Contains(r.stderr, "panic") {
			t.Errorf("%v: want exit 2 with a message\n%s", args, r)
		}
	}
	for _, topic := range []string{"send", "environments"} {
		if r := cli(t, nil, "help", topic); r.code != 0 || r.stdout == "" {
			t.Errorf("help %s: want exit 0 and the help\n%s", topic, r)
		}
	}
}

// TestEveryHelpFileIsUsed: each help/NAME.txt is the help of a command.
func TestEveryHelpFileIsUsed(t *testing.T) {
	t.Parallel()
	a := &app{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}
	root := a.root()
	names := map[string]bool{root.Name(): true}
	for _, c := range root.Commands() {
		names[c.Name()] = true
	}
	files, err := fs.Glob(helpFiles, "help/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("help files %v: %v", files, err)
	}
	for _, f := range files {
		if name := strings.TrimSuffix(path.Base(f), ".txt"); !names[name] {
			t.Errorf("%s: no command %q", f, name)
		}
	}
}

// TestReportHelpListsEveryColumn: report --help names every CSV column, in
// order, and the run in the JSON object: it ended at campaign, without
// the run column that reports carry last.
func TestReportHelpListsEveryColumn(t *testing.T) {
	t.Parallel()
	r := cli(t, nil, "report", "--help")
	text := strings.Join(strings.Fields(r.stdout), " ")
	_, cols, _ := strings.Cut(text, "Columns: ")
	cols, _, _ = strings.Cut(cols, ". ") // the sentence
	at := 0
	for _, c := range report.Columns {
		i := strings.Index(cols[at:], c)
		if i < 0 {
			t.Errorf("report --help lacks the column %s after %q", c, cols[:at])
			break
		}
		at += i + len(c)
	}
	if want := "writes one object: campaign, env, run, continues, state"; !strings.Contains(text, want) {
		t.Errorf("report --help: want %q\n%s", want, r.stdout)
	}
}
