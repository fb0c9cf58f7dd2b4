package environment

import (
	"strings"
	"testing"
)

// TestProductionInAnotherCaseIsRefused (red team 12b): an environment
// named "Production" or "PRODUCTION", in the config file or given as
// --env with TIDINGS_* variables only, was loaded as a non-production
// environment: send asked nobody to type the campaign's name, for the
// environment whose name the operator wrote to mean production (README:
// "the environment named production is always production"). It is now
// refused, naming where the name is written and what to call it; the
// environment named production is production.
func TestProductionInAnotherCaseIsRefused(t *testing.T) {
	t.Parallel()
	getenv := func(k string) string {
		if k == "TIDINGS_SMTP_HOST" {
			return "smtp.prod.internal"
		}
		return ""
	}
	for _, tc := range []struct{ name, config, env, want string }{
		{"config file, Production", "environments:\n  staging: {}\n  Production:\n    smtp: {host: smtp.prod.internal, port: 587, tls: starttls}\n", "Production",
			"tidings.yaml:3: environments.Production: differs from production only in case, and only the environment named production is production: call it production"},
		{"config file, PRODUCTION", "environments:\n  PRODUCTION:\n    smtp: {host: smtp.prod.internal, port: 587, tls: starttls}\n", "PRODUCTION",
			"tidings.yaml:2: environments.PRODUCTION: differs from production only in case"},
		{"variables only", "", "Production", "--env Production: differs from production only in case"},
		// A config file whose environment is production, and --env
		// Production typed: the mistake is the flag's, not the file's,
		// which has no environments.Production to rename.
		{"config file has production, --env Production", "environments:\n  staging: {}\n  production:\n    smtp: {host: smtp.prod.internal, port: 587, tls: starttls}\n", "Production",
			"--env Production: differs from production only in case, and only the environment named production is production: write --env production"},
		{"production", "", "production", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := Load([]byte(tc.config), "tidings.yaml", tc.env, getenv)
			if tc.want == "" {
				if err != nil || !e.Production {
					t.Fatalf("Load(%q): %+v, %v; want production", tc.env, e, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load(%q): production %v, err %v; want refused saying %q", tc.env, e != nil && e.Production, err, tc.want)
			}
		})
	}
}
