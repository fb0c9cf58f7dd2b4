package console_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/store"
)

// FuzzSessionCookie: whatever a client sends as the session cookie (and
// CSRF token), a page needs a real sign-in and a POST is refused; nothing
// panics. Redis is never reached on these paths (the store points nowhere).
func FuzzSessionCookie(f *testing.F) {
	f.Add("YWxpY2U.operator.99999999999.AAAA", "x")
	f.Add("", "")
	f.Add("...", "...")
	f.Add("YWxpY2U.operator.-1.", "")
	f.Add("bm9ib2R5.viewer.4102444800.c2lnbmF0dXJl", "c2lnbmF0dXJl")
	us, err := console.ParseTokens("alice operator-token-0123456789", "t", console.RoleOperator)
	if err != nil {
		f.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	f.Cleanup(func() { rdb.Close() })
	srv, err := console.New(console.Config{Store: store.New(rdb), Env: "fuzz", Users: us, Compose: compose, ServerNames: []string{"example.com"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, cookie, csrf string) {
		for _, req := range []*http.Request{
			httptest.NewRequest("GET", "/c/x/recipients", nil),
			httptest.NewRequest("POST", "/c/x/pause", strings.NewReader("reason=r&csrf="+csrf)),
		} {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Cookie", "tidings_session="+cookie)
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			switch {
			case req.Method == "GET" && rec.Code != http.StatusSeeOther:
				t.Fatalf("GET with cookie %q: %d, want a redirect to sign in", cookie, rec.Code)
			case req.Method == "POST" && rec.Code != http.StatusForbidden:
				t.Fatalf("POST with cookie %q: %d, want 403", cookie, rec.Code)
			}
		}
	})
}

// FuzzParseTokens: a token list never panics the parser, every user it
// returns has a valid name and a long enough token, and no error repeats a
// token.
func FuzzParseTokens(f *testing.F) {
	f.Add("alice abcdefghijklmnop-1234\nbob zyxwvutsrqponmlk-9876\n")
	f.Add("abcdefghijklmnop-1234")
	f.Add("# comment\n\n  alice\tabcdefghijklmnop-1234  \r\n")
	f.Add("al ice secret-secret-secret")
	f.Fuzz(func(t *testing.T, data string) {
		us, err := console.ParseTokens(data, "t", console.RoleViewer)
		if err != nil {
			for _, field := range strings.Fields(data) {
				if len(field) >= console.MinTokenLength && strings.Contains(err.Error(), field) {
					t.Fatalf("error %q repeats %q from the input", err, field)
				}
			}
			return
		}
		for _, u := range us {
			if u.Name == "" || strings.ContainsAny(u.Name, " \t\n<>\"'") || u.Role != console.RoleViewer {
				t.Fatalf("user %+v from %q", u, data)
			}
		}
	})
}
