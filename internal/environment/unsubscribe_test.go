package environment

import (
	"strings"
	"testing"
)

// TestListUnsubscribeIsValidated: the environment's list_unsubscribe goes
// into every campaign that sets none, so it is checked as a campaign's
// own is (unsubscribe.Check): a URL, with {id} and {email} only.
func TestListUnsubscribeIsValidated(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ file, variable, want string }{
		{file: "https://altea.example/u?id={id}&e={email}"},
		{variable: "mailto:unsubscribe@altea.example?subject={id}"},
		{file: "unsubscribe@altea.example", want: `t.yaml:3: environments.staging.list_unsubscribe: "unsubscribe@altea.example" is not an http(s) or mailto URL`},
		{file: "https://altea.example/u?id={ID}", want: "t.yaml:3: environments.staging.list_unsubscribe: \"https://altea.example/u?id={ID}\" has the unknown placeholder {ID}: the placeholders are {id} and {email}"},
		{variable: "https://altea.example/u?id={id", want: `TIDINGS_LIST_UNSUBSCRIBE: "https://altea.example/u?id={id" has a { that is not closed`},
		// Credentials would reach every recipient; the error hides the password.
		{variable: "https://ops:hunter2@altea.example/u?id={id}", want: `TIDINGS_LIST_UNSUBSCRIBE: "https://ops:xxxxx@altea.example/u?id={id}" holds a user name or password`},
	} {
		config := ""
		if tt.file != "" {
			config = "environments:\n  staging:\n    list_unsubscribe: \"" + tt.file + "\"\n"
		}
		e, err := Load([]byte(config), "t.yaml", "staging", func(k string) string {
			return map[string]string{"TIDINGS_LIST_UNSUBSCRIBE": tt.variable}[k]
		})
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q%q: %v, want it to load", tt.file, tt.variable, err)
		case tt.want == "" && e.ListUnsubscribe != tt.file+tt.variable:
			t.Errorf("%q%q: loaded %q", tt.file, tt.variable, e.ListUnsubscribe)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%q%q: got %v, want an error containing %q", tt.file, tt.variable, err, tt.want)
		}
	}
}
