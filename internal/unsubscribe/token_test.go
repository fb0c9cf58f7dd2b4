package unsubscribe_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"testing"

	"github.com/tidings-mail/tidings/internal/unsubscribe"
)

// verify is the README's verification, written again here from the
// documented computation alone: base64url (no padding) of the first 16
// bytes of HMAC-SHA256 keyed by the secret over the recipient id.
func verify(secret, id, token string) bool {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(id))
	want := base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:16])
	return hmac.Equal([]byte(token), []byte(want))
}

// TestTokenIsTheDocumentedHMAC: the {token} of an expanded
// List-Unsubscribe verifies with the documented computation under its
// secret, for ids that need escaping too, and not under another secret or
// for another id.
func TestTokenIsTheDocumentedHMAC(t *testing.T) {
	t.Parallel()
	const secret = "0123456789abcdef-the-site-holds-it"
	tests := []struct{ id, email string }{
		{"r000042", "ada@example.org"},
		{"ana maría+1&x", "ana@example.org"},
		{"山田", "taro@example.org"},
		{"", "nobody@example.org"},
	}
	for _, tt := range tests {
		link := unsubscribe.Expand("https://altea.example/u?id={id}&t={token}", tt.id, tt.email, unsubscribe.Token([]byte(secret), tt.id))
		u, err := url.Parse(link)
		if err != nil {
			t.Fatalf("%s: %v", link, err)
		}
		id, token := u.Query().Get("id"), u.Query().Get("t")
		if id != tt.id {
			t.Errorf("%s names id %q, want %q", link, id, tt.id)
		}
		if len(token) != 22 {
			t.Errorf("%s: token %q has %d characters, want 22", link, token, len(token))
		}
		if !verify(secret, id, token) {
			t.Errorf("%s: the token does not verify under its secret", link)
		}
		if verify(secret+"x", id, token) {
			t.Errorf("%s: the token verifies under another secret", link)
		}
		if verify(secret, id+"x", token) {
			t.Errorf("%s: the token verifies for another id", link)
		}
	}
}

// TestCheckTokenNeedsID: {token} is a placeholder Check knows; without
// {id} the site cannot check it, and Check says so.
func TestCheckTokenNeedsID(t *testing.T) {
	t.Parallel()
	tests := []struct{ tmpl, want string }{
		{"https://altea.example/u?id={id}&token={token}", ""},
		{"https://altea.example/u/{id}/{token}", ""},
		{"mailto:u@altea.example?subject={id}%20{token}", ""},
		{"https://altea.example/u?e={email}&token={token}", `"https://altea.example/u?e={email}&token={token}" has {token} but not {id}: the token is made from the recipient id, which the unsubscribe site needs to check it: add {id}, e.g. ?id={id}&token={token}`},
		{"https://altea.example/u?id={id}&t={Token}", `"https://altea.example/u?id={id}&t={Token}" has the unknown placeholder {Token}: the placeholders are {id}, {email} and {token}, in lower case (write a literal brace as %7B)`},
	}
	for _, tt := range tests {
		err := unsubscribe.Check(tt.tmpl)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("Check(%q) = %q, want %q", tt.tmpl, got, tt.want)
		}
	}
}

// BenchmarkToken is the cost of one recipient's {token} (a worker makes
// it for the header, and again for a body that reads .Unsubscribe).
func BenchmarkToken(b *testing.B) {
	secret := []byte("0123456789abcdef-the-site-holds-it")
	b.ReportAllocs()
	for b.Loop() {
		_ = unsubscribe.Token(secret, "r000042@example.org")
	}
}

// TestKeyFingerprint: the fingerprint a campaign stores of its unsubscribe
// secret is the documented computation (SHA-256 of the HMAC of the fixed
// label, first 16 bytes, base64url), differs between secrets, and is no
// recipient's token: not the token of any id it could be mistaken for
// (the label, the fingerprint itself), so storing it lets nobody
// unsubscribe anyone.
func TestKeyFingerprint(t *testing.T) {
	t.Parallel()
	const label = "tidings unsubscribe key fingerprint v1"
	for _, secret := range []string{"0123456789abcdef-the-site-holds-it", "another-secret-of-another-site", "ünïcödé secret, 16+ bytes"} {
		fp := unsubscribe.KeyFingerprint([]byte(secret))
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(label))
		sum := sha256.Sum256(mac.Sum(nil))
		if want := base64.RawURLEncoding.EncodeToString(sum[:16]); fp != want {
			t.Errorf("fingerprint of %q: %s, want %s", secret, fp, want)
		}
		if fp == unsubscribe.KeyFingerprint([]byte(secret+"x")) {
			t.Errorf("fingerprint of %q is another secret's too", secret)
		}
		for _, id := range []string{label, fp, ""} {
			if verify(secret, id, fp) {
				t.Errorf("fingerprint of %q is the token of id %q", secret, id)
			}
		}
	}
}
