package environment_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/environment"
)

// TestFlagsOverVariablesOverFile: a command-line flag given to Load sets
// its setting over TIDINGS_* variables and the config file, and a
// problem with its value names the flag, not the variable or the file's
// key it replaced; a flag not given (CountFlag of 0) changes nothing.
func TestFlagsOverVariablesOverFile(t *testing.T) {
	t.Parallel()
	const cfg = "environments:\n  staging:\n    smtp: {connections: 8}\n    concurrency: 2\n"
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "tidings.yaml")
	for _, tt := range []struct {
		name     string
		variable string
		flag     environment.Flag
		want     int
		wantErr  string
	}{
		{"file", "", environment.CountFlag("--concurrency", "concurrency", 0), 2, ""},
		{"variable", "3", environment.CountFlag("--concurrency", "concurrency", 0), 3, ""},
		{"flag", "3", environment.CountFlag("--concurrency", "concurrency", 5), 5, ""},
		{"flag over a variable out of range", "99", environment.CountFlag("--concurrency", "concurrency", 4), 4, ""},
		{"flag out of range", "3", environment.CountFlag("--concurrency", "concurrency", 9), 0, "--concurrency: 9 is above smtp.connections (8)"},
		{"flag not a number", "", environment.Flag{Name: "--concurrency", Key: "concurrency", Value: "x"}, 0, `--concurrency: "x" is not a whole number`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			vars := map[string]string{"HOME": dir, "TIDINGS_CONCURRENCY": tt.variable}
			e, err := environment.Load([]byte(cfg), cfgFile, "staging", func(k string) string { return vars[k] }, tt.flag)
			switch {
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want one saying %q", err, tt.wantErr)
			case tt.wantErr == "" && err != nil:
				t.Fatal(err)
			case tt.wantErr == "" && e.Concurrency != tt.want:
				t.Errorf("concurrency %d, want %d", e.Concurrency, tt.want)
			}
		})
	}
}
