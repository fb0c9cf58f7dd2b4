package cli

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
)

func TestPlan(t *testing.T) {
	t.Parallel()
	incomplete := filepath.Join(repoRoot(t), "testdata", "locales-incomplete")
	tests := []struct {
		name     string
		camp     campaignFile
		config   string // environments config file, if any
		env      string // --env
		wantCode int
		// wantRejects are the recipients-file lines expected in the output
		// and the rejects file, with their reasons.
		wantRejects map[string]string
		// wantNote is the line saying where the rejects file is.
		wantNote string
	}{
		{
			name:     "clean",
			camp:     campaignFile{rows: []string{"ada@example.org,Ada,en,1", "juerg@example.org,Jürg,de-CH,3", "taro@example.org,山田,ja,2"}},
			wantCode: 0,
		},
		{
			name: "refused and invalid",
			camp: campaignFile{locales: incomplete, rows: []string{
				"ada@example.org,Ada,en,1",
				"joao@example.org,João,pt-BR,3",
				"not-an-email,Bob,de,2",
				"zed@example.org,Zed,,2",
				"rm@example.org,Rumantsch,rm,2",
			}},
			wantCode: 1,
			wantRejects: map[string]string{
				"3": "incomplete: pt lacks welcome.reregister",
				"4": "not-an-email",
				"5": "empty locale",
				"6": "not-covered",
			},
			wantNote: "The 4 rows not sent (3 refused, 1 invalid) are in ",
		},
		{
			name:   "allowlist",
			camp:   campaignFile{rows: []string{"ada@example.org,Ada,en,1", "eve@elsewhere.example,Eve,en,1"}},
			config: "environments:\n  staging:\n    allow: [example.org]\n",
			env:    "staging", wantCode: 1,
			wantRejects: map[string]string{"3": "not-allowed-in-staging"},
			wantNote:    "The row not sent (refused) is in ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := writeCampaign(t, tt.camp)
			dir := filepath.Dir(file)
			rejects := filepath.Join(dir, "rejects.csv")
			args := []string{"plan", file, "--rejects", rejects}
			if tt.config != "" {
				cfg := filepath.Join(dir, "tidings.yaml")
				fixture.Write(t, cfg, tt.config)
				args = append(args, "--config", cfg)
			}
			if tt.env != "" {
				args = append(args, "--env", tt.env)
			}
			r := cli(t, nil, args...)
			if r.code != tt.wantCode {
				t.Fatalf("want exit %d\n%s", tt.wantCode, r)
			}
			recipients := filepath.Join(dir, "recipients.csv")
			for line, reason := range tt.wantRejects {
				found := false
				for _, l := range strings.Split(r.stdout, "\n") {
					found = found || strings.Contains(l, recipients+":"+line+":") && strings.Contains(l, reason)
				}
				if !found {
					t.Errorf("output lacks %s:%s: ... %s\n%s", recipients, line, reason, r)
				}
			}
			if tt.wantNote != "" && !strings.Contains(r.stdout, "\n"+tt.wantNote+rejects+"\n") {
				t.Errorf("output lacks %q and the rejects file's path\n%s", tt.wantNote, r)
			}
			if len(tt.wantRejects) == 0 {
				if _, err := os.Stat(rejects); err == nil {
					t.Errorf("a rejects file was written for a clean plan")
				}
				return
			}
			rows := readCSV(t, rejects)
			if len(rows) != len(tt.wantRejects)+1 {
				t.Fatalf("rejects file has %d rows, want a header and %d\n%v", len(rows), len(tt.wantRejects), rows)
			}
			header := rows[0]
			lineCol, reasonCol := slices.Index(header, "line"), slices.Index(header, "reason")
			codeCol := slices.Index(header, "code")
			if lineCol < 0 || reasonCol < 0 || codeCol < 0 {
				t.Fatalf("rejects header %v lacks line, code or reason", header)
			}
			for _, row := range rows[1:] {
				want, ok := tt.wantRejects[row[lineCol]]
				if !ok {
					t.Errorf("unexpected reject %v", row)
					continue
				}
				if !strings.Contains(row[reasonCol]+" "+row[codeCol]+" "+strings.Join(row, " "), want) {
					t.Errorf("reject of line %s: %v, want %q", row[lineCol], row, want)
				}
			}
		})
	}
}

func readCSV(t testing.TB, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

// TestMissingConfigFile: a config file that does not exist is a usage
// error that says where its path came from and what to give.
func TestMissingConfigFile(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	for _, tt := range []struct {
		env  map[string]string
		args []string
		from string
	}{
		{nil, []string{"status", "--env", "staging", "--config", missing}, "--config"},
		{map[string]string{"TIDINGS_CONFIG": missing}, []string{"status", "--env", "staging"}, "TIDINGS_CONFIG"},
	} {
		r := cli(t, tt.env, tt.args...)
		if r.code != 2 || !strings.Contains(r.stderr, missing) || !strings.Contains(r.stderr, "(from "+tt.from+"): give the path of your environments file") {
			t.Errorf("want exit 2 naming %s and %s\n%s", missing, tt.from, r)
		}
	}
}

// TestPinnedEnvironmentMissing: a campaign file pinned to an environment
// the config file does not define is named in the error, beside the
// config file's own line (the fix may be in either).
func TestPinnedEnvironmentMissing(t *testing.T) {
	t.Parallel()
	file := writeCampaign(t, campaignFile{env: "prod", rows: []string{"ada@example.org,Ada,en,1"}})
	cfg := filepath.Join(filepath.Dir(file), "tidings.yaml")
	fixture.Write(t, cfg, "environments:\n  staging: {}\n  production: {}\n")
	r := cli(t, nil, "plan", file, "--config", cfg)
	if want := file + " pins 'environment: prod': " + cfg + ":"; r.code != 2 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, `no environment "prod"`) {
		t.Errorf("want exit 2 naming %q and the missing environment\n%s", want, r)
	}
}

// TestPlanPinnedToAnotherEnvironment: plan shows what send would do, so a
// campaign file pinned to another environment than --env is refused as
// send refuses it (exit 2, naming the file's line and what to give),
// before any row is read or a rejects file written.
func TestPlanPinnedToAnotherEnvironment(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		pinned   string
		args     []string
		wantCode int
		wantErr  string
	}{
		{name: "another environment", pinned: "staging", args: []string{"--env", "production"}, wantCode: 2,
			wantErr: `campaign.yaml:2: environment: pinned to environment "staging" but --env is "production": use --env staging`},
		{name: "its own environment", pinned: "staging", args: []string{"--env", "staging"}, wantCode: 0},
		{name: "no --env", pinned: "production", wantCode: 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := writeCampaign(t, campaignFile{env: tt.pinned, rows: []string{"ada@example.org,Ada,en,1"}})
			rejects := filepath.Join(filepath.Dir(file), "rejects.csv")
			r := cli(t, nil, append([]string{"plan", file, "--rejects", rejects}, tt.args...)...)
			if r.code != tt.wantCode || !strings.Contains(r.stderr, tt.wantErr) {
				t.Fatalf("want exit %d and %q\n%s", tt.wantCode, tt.wantErr, r)
			}
			if _, err := os.Stat(rejects); tt.wantCode != 0 && (r.stdout != "" || err == nil) {
				t.Errorf("a refused plan printed a plan or wrote %s\n%s", rejects, r)
			}
		})
	}
}
