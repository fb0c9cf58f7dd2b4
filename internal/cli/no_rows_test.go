package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
)

// TestARecipientsFileWithNoRowIsAnOperatorError: a recipients file with no
// recipient in it (empty, a header row only, an empty JSONL file; their
// variants, blank lines and CR, are the reader's: plan.TestRunNoRows) is
// one kind of mistake, the operator's, and every command that reads it
// says so alike: exit 2 (as for a recipients file that does not exist), a
// message naming the file and saying what to do. It used to be exit 2 for
// an empty CSV and exit 1 for a header-only CSV or an empty JSONL (plan,
// send), and preview and test-send showed sample data for every language
// and exited 0.
func TestARecipientsFileWithNoRowIsAnOperatorError(t *testing.T) {
	t.Parallel()
	env, commands := qaCommands(t)
	commands = append(commands,
		qaCommand{"plan", func(file string) []string { return []string{"plan", file} }},
		qaCommand{"rehearse", func(file string) []string { return []string{"rehearse", file, "--out", t.TempDir()} }})
	files := []struct{ name, file, content, want string }{
		{"empty csv", "recipients.csv", "", "the file is empty: add a header row"},
		{"header only", "recipients.csv", "email,name,locale,posts\n", "the file has a header row but no row below it: add one row per recipient"},
		{"empty jsonl", "recipients.jsonl", "", "the file has no line with a recipient: add one row per recipient"},
	}
	for _, f := range files {
		for _, c := range commands {
			t.Run(f.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				file := writeCampaign(t, campaignFile{name: "norows"})
				dir := filepath.Dir(file)
				yaml, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				fixture.Write(t, file, strings.Replace(string(yaml), "recipients: recipients.csv", "recipients: "+f.file, 1))
				rcp := filepath.Join(dir, f.file)
				fixture.Write(t, rcp, f.content)
				r := cli(t, env, c.args(file)...)
				if r.code != 2 || !strings.Contains(r.stderr, f.file) || !strings.Contains(r.stderr, f.want) {
					t.Errorf("%s of a recipients file with no row (%s): want exit 2 and stderr naming %s with %q\n%s", c.name, f.name, f.file, f.want, r)
				}
			})
		}
	}
}
