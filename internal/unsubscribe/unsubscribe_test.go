package unsubscribe_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/unsubscribe"
)

func TestExpand(t *testing.T) {
	t.Parallel()
	tests := []struct{ tmpl, want string }{
		{"https://x.example/u?id={id}", "https://x.example/u?id=a%20b%26c"},
		{"mailto:u@x.example?subject={email}", "mailto:u@x.example?subject=z%2Bq%40x.example"},
		{"https://x.example/{id}/{email}/{id}", "https://x.example/a%20b%26c/z%2Bq%40x.example/a%20b%26c"},
		{"https://x.example/{{id}}{e", "https://x.example/{a%20b%26c}{e"},
		{"https://x.example/static", "https://x.example/static"},
		{"", ""},
	}
	for _, tt := range tests {
		got := unsubscribe.Expand(tt.tmpl, "a b&c", "z+q@x.example", "")
		if got != tt.want {
			t.Errorf("Expand(%q) = %q, want %q", tt.tmpl, got, tt.want)
		}
		// Same as a strings.Replacer over the two placeholders.
		ref := strings.NewReplacer("{id}", "a%20b%26c", "{email}", url.QueryEscape("z+q@x.example")).Replace(tt.tmpl)
		if got != ref {
			t.Errorf("Expand(%q) = %q, strings.Replacer gives %q", tt.tmpl, got, ref)
		}
		if b := unsubscribe.Bracketed(tt.tmpl, "a b&c", "z+q@x.example", ""); b != "<"+tt.want+">" {
			t.Errorf("Bracketed(%q) = %q, want <%s>", tt.tmpl, b, tt.want)
		}
	}
}

// TestBracketedAllocations: the List-Unsubscribe value of a recipient whose
// id needs no escaping is made in one allocation ("<" + Expand + ">" made
// two).
func TestBracketedAllocations(t *testing.T) {
	var v string
	got := testing.AllocsPerRun(100, func() { v = unsubscribe.Bracketed("https://x.example/u?id={id}", "r000042", "z@x.example", "") })
	if want := "<https://x.example/u?id=r000042>"; v != want {
		t.Fatalf("Bracketed = %q, want %q", v, want)
	}
	if got > 1 {
		t.Errorf("Bracketed allocates %.0f times, want 1", got)
	}
}

// TestCheckRefusesCredentialsInTheURL: a user name or password in
// list_unsubscribe (https://ops:secret@host/..., the unsubscribe endpoint's
// basic auth written into the URL) went into every recipient's
// List-Unsubscribe header, readable by all of them, and was printed by
// every command that shows the URL. Check refuses it, and its error does
// not repeat the password (red team 40).
func TestCheckRefusesCredentialsInTheURL(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ tmpl, secret string }{
		{"https://ops:hunter2@altea.example/unsubscribe?id={id}", "hunter2"},
		{"http://ops:s3cr%40t@altea.example/u/{id}", "s3cr"},
		{"https://ops@altea.example/unsubscribe?id={id}", ""},
		{"https://ops:hunter2@altea.example/unsubscribe?id={ID}", "hunter2"},
		// Review of red team 40: a template the URL parser refuses as it
		// is written (a placeholder in the host or the user name, a brace
		// or a bad escape in the password) was let through, or its other
		// error repeated the password.
		{"https://ops:hunter2@{id}.altea.example/u", "hunter2"},
		{"https://{id}:hunter2@altea.example/u", "hunter2"},
		{"https://ops:pa{ss@altea.example/u?id={id}", "pa{ss"},
		{"https://ops:hun%zzter2@altea.example/u?id={id}", "zzter2"},
		{"HTTPS://ops:hunter2@altea.example/u?id={id}", "hunter2"},
	} {
		err := unsubscribe.Check(tt.tmpl)
		switch {
		case err == nil:
			t.Errorf("Check(%q) = nil, want the credentials refused", tt.tmpl)
		case tt.secret != "" && strings.Contains(err.Error(), tt.secret):
			t.Errorf("Check(%q) = %v: it shows the password", tt.tmpl, err)
		case !strings.Contains(err.Error(), "remove"):
			t.Errorf("Check(%q) = %v, want it to say what to remove", tt.tmpl, err)
		}
	}
	// mailto's @ is the address, not credentials.
	// An @ after the host (in the path, the query or the fragment) is not
	// user information.
	for _, ok := range []string{
		"mailto:unsubscribe@altea.example?subject={id}",
		"https://altea.example/u/a@b?e={email}&c=x@y#z@w",
		"https://altea.example?id={id}&e=ops:x@altea.example",
	} {
		if err := unsubscribe.Check(ok); err != nil {
			t.Errorf("Check(%q): %v", ok, err)
		}
	}
}

// TestASCIIHost: the host of an http(s) template goes as its A-labels, the
// rest as written; a host IDNA refuses is an error of Check (red team 40;
// the wire side is send's TestListUnsubscribeIDNHostGoesAsALabel).
func TestASCIIHost(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ tmpl, want string }{
		{"https://bücher.example/ü?id={id}", "https://xn--bcher-kva.example/ü?id={id}"},
		{"HTTPS://BÜCHER.example#{id}", "HTTPS://xn--bcher-kva.example#{id}"},
		{"https://[::1]:8443/u?id={id}", "https://[::1]:8443/u?id={id}"},
		{"https://altea.example/bücher.example", "https://altea.example/bücher.example"},
		{"mailto:abmelden@bücher.example", "mailto:abmelden@bücher.example"},
	} {
		if got, err := unsubscribe.ASCIIHost(tt.tmpl); err != nil || got != tt.want {
			t.Errorf("ASCIIHost(%q) = %q, %v; want %q", tt.tmpl, got, err, tt.want)
		}
	}
	const bad = "https://bücher_news.example/u?id={id}"
	if err := unsubscribe.Check(bad); err == nil || !strings.Contains(err.Error(), "IDNA") {
		t.Errorf("Check(%q) = %v, want the host refused", bad, err)
	}
}
