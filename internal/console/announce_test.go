package console_test

import (
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/environment"
)

// TestStartedWrite: the announcement of a console process names what it
// shows (a production environment as such), warns when it listens beyond
// loopback, gives the sign-in link and the gallery of a campaign file
// when there are, and says how to stop it.
func TestStartedWrite(t *testing.T) {
	t.Parallel()
	file := &console.CampaignFile{Campaign: &campaign.Campaign{Name: "spring"}, Path: "/c/spring.yaml"}
	tests := []struct {
		name     string
		s        console.Started
		o        console.Options
		want     []string
		dontWant string
	}{
		{name: "file on loopback", s: console.Started{Addr: "127.0.0.1:8080", Base: "http://127.0.0.1:8080", Loopback: true, Link: "http://127.0.0.1:8080/login#token=t"},
			o: console.Options{Server: console.Config{File: file}},
			want: []string{"Console for the gallery of spring on http://127.0.0.1:8080/\n", "Listening on 127.0.0.1:8080: loopback only",
				"Sign in with this link (valid while this command runs; anyone with it can sign in: do not share it): http://127.0.0.1:8080/login#token=t\n",
				"Gallery of /c/spring.yaml: http://127.0.0.1:8080/file/gallery\n", "Ctrl-C to stop.\n"},
			dontWant: "WARNING"},
		{name: "production beyond loopback", s: console.Started{Addr: ":8080", Base: "http://host:8080"},
			o:        console.Options{Env: &environment.Environment{Name: "production", Production: true}},
			want:     []string{"Console for environment production (PRODUCTION) on http://host:8080/\n", "WARNING: listening on :8080, reachable from the network.", "Ctrl-C to stop.\n"},
			dontWant: "Sign in with this link"},
	}
	for _, tt := range tests {
		var b strings.Builder
		tt.s.Write(&b, tt.o)
		for _, w := range tt.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: no %q in\n%s", tt.name, w, b.String())
			}
		}
		if strings.Contains(b.String(), tt.dontWant) {
			t.Errorf("%s: %q in\n%s", tt.name, tt.dontWant, b.String())
		}
	}
}
