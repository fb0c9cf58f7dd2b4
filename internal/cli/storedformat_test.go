package cli

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
)

// newerFormat and thisFormat are a newer build's stored format and this
// build's, as the refusals word them.
var newerFormat, thisFormat = strconv.Itoa(store.StoredFormat + 1), strconv.Itoa(store.StoredFormat)

// formatJSON is what TestOtherStoredFormatStatusAndResume reads of
// status --json.
type formatJSON struct {
	Stage  string `json:"stage"`
	Format *int   `json:"stored_format"`
	Audit  []any  `json:"audit"`
}

// TestOtherStoredFormatStatusAndResume: of a campaign staged by a build of
// another stored format (written with HSET, as that build would have),
// status says so with what to do, and send --resume-existing refuses to
// stage it again, with the next step, changing nothing.
func TestOtherStoredFormatStatusAndResume(t *testing.T) {
	t.Parallel()
	env, file := sendOfNewerFormat(t, "other-format")
	read := func() formatJSON {
		t.Helper()
		r := cli(t, env, "status", "other-format", "--env", "staging", "--json")
		var st formatJSON
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &st) != nil || st.Stage == "" {
			t.Fatalf("status --json\n%s", r)
		}
		return st
	}
	before := read()

	r := cli(t, env, "status", "other-format", "--env", "staging")
	if r.code != 0 || !strings.Contains(r.stdout, "\nFormat:   staged by a build with stored format "+newerFormat+"; this tidings has format "+thisFormat) ||
		!strings.Contains(r.stdout, "finish it with the workers of the build that staged it") {
		t.Errorf("status of a campaign of another stored format: want its Format line\n%s", r)
	}
	if before.Format == nil || *before.Format != store.StoredFormat+1 {
		t.Errorf("status --json: stored_format %v, want %d", before.Format, store.StoredFormat+1)
	}

	r = cli(t, env, "send", file, "--env", "staging", "--resume-existing")
	if r.code == 0 || !strings.Contains(r.stderr, "campaign other-format was staged by a build with stored format "+newerFormat+"; this tidings has format "+thisFormat) ||
		!strings.Contains(r.stderr, "stage it again with the build that staged it (stored format "+newerFormat+")") {
		t.Errorf("send --resume-existing of a campaign of another stored format: want a refusal with the next step\n%s", r)
	}
	after := read()
	if after.Stage != before.Stage || len(after.Audit) != len(before.Audit) || after.Format == nil || *after.Format != store.StoredFormat+1 {
		t.Errorf("the refused send changed the campaign: stage %s, %d audit entries, format %v (before %s, %d)", after.Stage, len(after.Audit), after.Format, before.Stage, len(before.Audit))
	}
}

// sendOfNewerFormat stages campaign c (6 recipients) with send in environment
// staging, then writes a newer stored format (store.StoredFormat+1) in its meta with HSET, as a newer
// build would have staged it. It returns the command's environment and
// the campaign file.
func sendOfNewerFormat(t *testing.T, c string) (map[string]string, string) {
	t.Helper()
	renv, rd := redisEnv(t)
	env := merge(renv, smtpEnv(startSMTP(t, smtpcapture.Config{})))
	file := writeCampaign(t, campaignFile{name: c, rows: rowsIn(3, "en", "de")})
	if r := cli(t, env, "send", file, "--env", "staging"); r.code != 0 {
		t.Fatalf("send\n%s", r)
	}
	if err := rd.Client().HSet(t.Context(), "tidings:{"+c+"}:meta", "format", newerFormat).Err(); err != nil {
		t.Fatal(err)
	}
	return env, file
}
