package environment

import (
	"fmt"
	"os"
	"path/filepath"
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
		{file: "https://altea.example/u?id={ID}", want: "t.yaml:3: environments.staging.list_unsubscribe: \"https://altea.example/u?id={ID}\" has the unknown placeholder {ID}: the placeholders are {id}, {email} and {token}"},
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

// TestUnsubscribeSecret: the key of {token} comes from a file named in the
// config file or by TIDINGS_UNSUBSCRIBE_SECRET_FILE, or from
// TIDINGS_UNSUBSCRIBE_SECRET; written into the config file it is refused
// with its line, and one too short to resist guessing is refused. It
// never prints.
func TestUnsubscribeSecret(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const secret = "s3cr3t-0123456789-abcdef"
	file := filepath.Join(dir, "unsub")
	if err := os.WriteFile(file, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	short := filepath.Join(dir, "short")
	if err := os.WriteFile(short, []byte("tooshort\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, config string
		vars         map[string]string
		want         string // the error; "" when secret loads
	}{
		{name: "config file", config: "    unsubscribe_secret_file: " + file + "\n"},
		{name: "file variable", vars: map[string]string{"TIDINGS_UNSUBSCRIBE_SECRET_FILE": file}},
		{name: "variable", vars: map[string]string{"TIDINGS_UNSUBSCRIBE_SECRET": secret}},
		{name: "literal", config: "    unsubscribe_secret: " + secret + "\n",
			want: "t.yaml:3: environments.staging.unsubscribe_secret: secrets are not read from the config file: remove it and use unsubscribe_secret_file or TIDINGS_UNSUBSCRIBE_SECRET"},
		{name: "short", config: "    unsubscribe_secret_file: " + short + "\n",
			want: "t.yaml:3: environments.staging.unsubscribe_secret_file: the unsubscribe secret is 8 bytes, too short to keep tokens from being guessed: use at least 16 random bytes, e.g. the output of openssl rand -base64 32"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := Load([]byte("environments:\n  staging:\n"+tt.config+"    allow: [example.org]\n"), "t.yaml", "staging", func(k string) string { return tt.vars[k] })
			if tt.want != "" {
				if err == nil || err.Error() != tt.want {
					t.Fatalf("got %v, want %q", err, tt.want)
				}
				if strings.Contains(err.Error(), "tooshort") {
					t.Errorf("the error shows the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.UnsubscribeSecret.Reveal() != secret {
				t.Errorf("secret %q, want %q", e.UnsubscribeSecret.Reveal(), secret)
			}
			if shown := fmt.Sprintf("%v %+v", e, *e); strings.Contains(shown, secret) {
				t.Errorf("the environment prints the secret: %s", shown)
			}
		})
	}
}
