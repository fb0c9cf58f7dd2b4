package nextstep

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/golden"
	"github.com/tidings-mail/tidings/internal/launch"
)

// TestLostSaysTheSendItsRecordKeeps: what `tidings status` and the
// console say of a campaign this host started and Redis lost names the
// send to run again as its start record keeps it (campaign file, made
// absolute when it was recorded, and flags), so that it can be pasted as
// it is; only what the record does not keep is left for the operator, who
// is told which part to fill in. It said "tidings send CAMPAIGN-FILE
// --env production, with the flags it had" whatever the record kept.
func TestLostSaysTheSendItsRecordKeeps(t *testing.T) {
	t.Parallel()
	flags := &launch.SendOptions{SkipRefused: true, Rejects: "/home/ops/altea rejects.csv"}
	tests := []struct {
		name string
		rec  *launch.Record
	}{
		{"record with the campaign file and flags", &launch.Record{CampaignFile: "/home/ops/campaigns/altea.yaml", Send: flags, JournalDir: "/var/lib/tidings/production/journal"}},
		{"record with the campaign file, sent without flags", &launch.Record{CampaignFile: "/home/ops/campaigns/altea.yaml", Send: &launch.SendOptions{}}},
		{"record with flags, of a version that did not keep the campaign file", &launch.Record{Send: flags}},
		{"record of a version that kept neither", &launch.Record{}},
		{"a journal directory with a space", &launch.Record{CampaignFile: "/home/ops/campaigns/altea.yaml", Send: &launch.SendOptions{}, JournalDir: "/srv/tidings journal"}},
		{"no record at hand", nil},
	}
	var all []string
	for _, tt := range tests {
		all = append(all, "# "+tt.name+"\n"+Lost("altea", "production", tt.rec))
	}
	golden.Check(t, filepath.Join("testdata", "lost.golden"), strings.Join(all, "\n\n")+"\n")
}

// TestSendRunCommand: the send a message prints to run again is a command
// a POSIX shell reads back as it was run, from any directory: relative
// paths made absolute, paths with spaces or quotes quoted, and every flag
// that decides what it stages, in one order.
func TestSendRunCommand(t *testing.T) {
	t.Parallel()
	wd, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		r    SendRun
		want string
	}{
		{"placeholders", SendRun{}, "tidings send CAMPAIGN-FILE --env ENV"},
		{"relative file", SendRun{File: "c/altea.yaml", Env: "lab"}, "tidings send " + filepath.Join(wd, "c", "altea.yaml") + " --env lab"},
		// An environment's name is any key of the config file's
		// environments: one with a space, a quote or a $ is quoted too.
		{"environment name a shell splits", SendRun{File: "/a/b.yaml", Env: "staging eu"}, "tidings send /a/b.yaml --env 'staging eu'"},
		{"environment name with a quote and a $", SendRun{File: "/a/b.yaml", Env: "it's $HOME"}, `tidings send /a/b.yaml --env 'it'\''s $HOME'`},
		{"every flag", SendRun{File: "/a/b.yaml", Env: "prod", ResumeExisting: true, Exclude: []string{"/j", "it's here"}, Confirm: "altea",
			Options: &launch.SendOptions{SkipRefused: true, SkipInvalid: true, Rejects: "/r/x.csv"}},
			"tidings send /a/b.yaml --env prod --resume-existing --exclude-delivered /j --exclude-delivered '" + filepath.Join(wd, "it") + `'\''s here' --skip-refused --skip-invalid --rejects /r/x.csv --confirm altea`},
	}
	for _, tt := range tests {
		if got := tt.r.Command(); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}
