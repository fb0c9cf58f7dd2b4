package console_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/preview"
)

// getAs gets base+path with the Host header host, as a browser does for
// a page whose name resolves to the console's address.
func getAs(t *testing.T, base, path, host string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestDNSRebindingRefused: a hostile page whose name the attacker makes
// resolve to the console's address (DNS rebinding) is the same origin as
// its own name: the browser lets its script read what the console
// answers. The console answers only to the names it is reached by
// (localhost, an IP address, the names it is configured with), so such a
// page reads nothing: not /metrics (campaign names, counts), not the
// sign-in page.
func TestDNSRebindingRefused(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "rebound", N: 3})
	s := newSiteWith(t, w, func(c *console.Config) { c.ServerNames = []string{"tidings.staging.internal"} })
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(s.URL, "http://"))
	for _, host := range []string{"attacker.example:" + port, "attacker.example", "tidings.staging.internal.attacker.example:" + port, "localhost.attacker.example"} {
		for _, p := range []string{"/metrics", "/login", "/healthz", "/"} {
			code, body := getAs(t, s.URL, p, host)
			if code != http.StatusMisdirectedRequest || strings.Contains(body, "rebound") {
				t.Errorf("GET %s with Host %s: %d, want 421 and nothing of the console\n%s", p, host, code, body)
			}
		}
	}
	if !strings.Contains(s.log(), "console: refused a request for another host name") || !strings.Contains(s.log(), "attacker.example") {
		t.Errorf("the refusals are not logged:\n%s", s.log())
	}
	for _, host := range []string{"127.0.0.1:" + port, "localhost:" + port, "LOCALHOST", "qa.localhost:" + port, "[::1]:" + port, "10.1.2.3",
		"tidings.staging.internal", "Tidings.Staging.Internal.:443"} {
		if code, body := getAs(t, s.URL, "/metrics", host); code != http.StatusOK || !strings.Contains(body, "rebound") {
			t.Errorf("GET /metrics with Host %s: %d, want the metrics\n%s", host, code, body)
		}
	}
}

// TestRunAnswersToItsNames: a console process answers to the name of its
// public URL and, listening on every interface, to this machine's name
// (the links it prints use it); to no other.
func TestRunAnswersToItsNames(t *testing.T) {
	t.Parallel()
	cf := fileOf(t)
	hostname, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		addr, url string
		ok        []string
	}{
		{"127.0.0.1:0", "https://tidings.example.org/", []string{"tidings.example.org", "localhost"}},
		{"0.0.0.0:0", "", []string{hostname, "localhost"}},
		{"0.0.0.0:0", "https://tidings.example.org", []string{hostname, "tidings.example.org"}},
	} {
		ctx, cancel := context.WithCancel(t.Context())
		started := make(chan console.Started, 1)
		done := make(chan error, 1)
		viewers := &console.TokenList{Data: "quinn " + viewerToken, Source: "viewers"}
		o := console.Options{Addr: tt.addr, URL: tt.url, Viewers: viewers, Server: console.Config{Compose: compose, Samples: preview.DefaultSamples(), File: cf}}
		go func() { done <- console.Run(ctx, o, func(s console.Started) { started <- s }) }()
		var st console.Started
		select {
		case st = <-started:
		case err := <-done:
			t.Fatalf("Run on %s: %v", tt.addr, err)
		}
		_, port, _ := net.SplitHostPort(strings.TrimPrefix(st.Base, "http://"))
		base := "http://127.0.0.1:" + port
		for _, host := range tt.ok {
			if code, _ := getAs(t, base, "/login", host+":"+port); code != http.StatusOK {
				t.Errorf("console on %s (URL %q), Host %s: %d, want 200", tt.addr, tt.url, host, code)
			}
		}
		if code, _ := getAs(t, base, "/login", "attacker.example:"+port); code != http.StatusMisdirectedRequest {
			t.Errorf("console on %s (URL %q), Host attacker.example: %d, want 421", tt.addr, tt.url, code)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run on %s after the context ended: %v", tt.addr, err)
		}
	}
}
