package cli

import (
	"bufio"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/syncbuf"
	"github.com/tidings-mail/tidings/internal/wait"
)

// covered lists the languages of testdata/locales-incomplete whose catalogs
// are complete; pt lacks a key and pl a plural form.
var coveredIncomplete = []string{"ar", "de", "en", "es", "fr", "it", "ja", "ru"}

func TestPreview(t *testing.T) {
	t.Parallel()
	incomplete := filepath.Join(repoRoot(t), "testdata", "locales-incomplete")
	tests := []struct {
		name     string
		rows     []string
		wantCode int
		// wantBanner are texts the banner on pt's card must contain.
		wantBanner []string
	}{
		{
			name:       "recipients need pt",
			rows:       []string{"ada@example.org,Ada,en,1", "joao@example.org,João,pt-PT,3", "taro@example.org,山田 太郎,ja,2"},
			wantCode:   1,
			wantBanner: []string{"welcome.reregister", "1 recipient(s)", "refused"},
		},
		{
			name:       "no recipient needs pt",
			rows:       []string{"ada@example.org,Ada,en,1", "layla@example.org,ليلى,ar,11"},
			wantCode:   0,
			wantBanner: []string{"welcome.reregister", "refused"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := writeCampaign(t, campaignFile{locales: incomplete, rows: tt.rows})
			out := filepath.Join(t.TempDir(), "gallery")
			r := cli(t, nil, "preview", file, "--out", out)
			if r.code != tt.wantCode {
				t.Fatalf("want exit %d\n%s", tt.wantCode, r)
			}
			index := fixture.Read(t, filepath.Join(out, "index.html"))
			banner := bannerOf(index, "pt")
			if banner == "" {
				t.Fatalf("index.html has no banner on pt's card\n%s", index)
			}
			for _, want := range tt.wantBanner {
				if !strings.Contains(banner, want) {
					t.Errorf("pt's banner %q lacks %q", banner, want)
				}
			}
			if bannerOf(index, "en") != "" {
				t.Errorf("en, which is complete, has a banner: %q", bannerOf(index, "en"))
			}
			subjects := previewSubjects(r.stdout)
			for _, lang := range coveredIncomplete {
				for _, ext := range []string{".eml", ".html", ".txt"} {
					if _, err := os.Stat(filepath.Join(out, lang+ext)); err != nil {
						t.Errorf("%s%s: %v", lang, ext, err)
					}
				}
				checkEML(t, out, lang, subjects[lang])
			}
			for _, lang := range []string{"pt", "pl"} {
				if _, err := os.Stat(filepath.Join(out, lang+".eml")); err == nil {
					t.Errorf("%s.eml written for an incomplete language", lang)
				}
			}
		})
	}
}

// bannerOf returns the text of the banner on lang's card in the gallery.
func bannerOf(index, lang string) string {
	card := regexp.MustCompile(`(?s)<section[^>]*id="` + lang + `"[^>]*>(.*?)</section>`).FindStringSubmatch(index)
	if card == nil {
		return ""
	}
	b := regexp.MustCompile(`(?s)class="banner"[^>]*>(.*?)</div>`).FindStringSubmatch(card[1])
	if b == nil {
		return ""
	}
	return b[1]
}

// previewSubjects reads the subject column of preview's table.
func previewSubjects(stdout string) map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 4 && f[1] == "ok" {
			line := sc.Text()
			// LANG STATUS ROWS SUBJECT: the subject is the rest after the
			// third field.
			rest := line
			for range 3 {
				rest = strings.TrimLeft(rest, " ")
				rest = rest[strings.IndexByte(rest, ' '):]
			}
			m[f[0]] = strings.TrimSpace(rest)
		}
	}
	return m
}

// checkEML parses <lang>.eml: its decoded subject must be the one preview
// showed, its language header lang, and its text part the <lang>.txt file.
func checkEML(t *testing.T, dir, lang, subject string) {
	t.Helper()
	msg := readEML(t, filepath.Join(dir, lang+".eml"))
	var dec mime.WordDecoder
	got, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("%s.eml: decode subject: %v", lang, err)
	}
	if subject == "" || got != subject {
		t.Errorf("%s.eml: subject %q, preview showed %q", lang, got, subject)
	}
	if cl := msg.Header.Get("Content-Language"); cl != lang {
		t.Errorf("%s.eml: Content-Language %q", lang, cl)
	}
	if _, err := mail.ParseAddress(msg.Header.Get("To")); err != nil {
		t.Errorf("%s.eml: To %q: %v", lang, msg.Header.Get("To"), err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		t.Fatalf("%s.eml: Content-Type %q: %v", lang, msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err != nil {
			t.Fatalf("%s.eml: no text/plain part: %v", lang, err)
		}
		if !strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			continue
		}
		var body io.Reader = p
		switch strings.ToLower(p.Header.Get("Content-Transfer-Encoding")) {
		case "quoted-printable":
			body = quotedprintable.NewReader(p)
		case "base64": // CJK and Arabic text is smaller in base64
			body = base64.NewDecoder(base64.StdEncoding, p)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatalf("%s.eml: read text part: %v", lang, err)
		}
		norm := func(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")) }
		if txt := fixture.Read(t, filepath.Join(dir, lang+".txt")); norm(string(b)) != norm(txt) {
			t.Errorf("%s.eml: text part differs from %s.txt\n--- eml:\n%s\n--- txt:\n%s", lang, lang, b, txt)
		}
		return
	}
}

// TestPreviewServeIsLoopback: --serve with a port alone listens on
// loopback and says so; every interface must be asked for, and without
// viewer tokens it is refused.
func TestPreviewServeIsLoopback(t *testing.T) {
	t.Parallel()
	file := writeCampaign(t, campaignFile{rows: []string{"ada@example.org,Ada,en,1"}})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout, stderr syncbuf.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"preview", file, "--out", filepath.Join(t.TempDir(), "p"), "--serve", ":0"}, strings.NewReader(""), &stdout, &stderr, func(string) string { return "" }, nil)
	}()
	wait.For(t, 30*time.Second, "the gallery to be served", func() bool { return strings.Contains(stdout.String(), "Ctrl-C to stop") },
		func() string { return stdout.String() + stderr.String() })
	cancel()
	<-done
	if !regexp.MustCompile(`Listening on 127\.0\.0\.1:\d+: loopback only`).MatchString(stdout.String()) || strings.Contains(stdout.String(), "WARNING") {
		t.Errorf("--serve :0 does not say it listens on loopback only\n%s", stdout.String())
	}

	r := cli(t, nil, "preview", file, "--out", filepath.Join(t.TempDir(), "p"), "--serve", "0.0.0.0:0")
	if r.code != 2 || !strings.Contains(r.stderr, "before listening beyond loopback") {
		t.Errorf("--serve 0.0.0.0:0 without tokens: want exit 2, refused\n%s", r)
	}
}

// TestPreviewServeWithViewerTokens: beyond loopback, preview's refusal
// names a way to sign in that preview has, and giving it serves with the
// warning.
func TestPreviewServeWithViewerTokens(t *testing.T) {
	t.Parallel()
	file := writeCampaign(t, campaignFile{rows: []string{"ada@example.org,Ada,en,1"}})
	// The variable is not read without an environment: the refusal must
	// not send anyone to set it.
	r := cli(t, map[string]string{"TIDINGS_CONSOLE_VIEWER_TOKEN": "qa 0123456789abcdef0123456789abcdef"}, "preview", file, "--out", filepath.Join(t.TempDir(), "p"), "--serve", "0.0.0.0:0")
	if r.code != 2 || !strings.Contains(r.stderr, "--viewer-tokens FILE") || strings.Contains(r.stderr, "TIDINGS_CONSOLE_VIEWER_TOKEN") {
		t.Errorf("--serve 0.0.0.0:0 without tokens: want exit 2 naming --viewer-tokens only\n%s", r)
	}

	tokens := filepath.Join(t.TempDir(), "viewers")
	fixture.Write(t, tokens, "qa 0123456789abcdef0123456789abcdef\n")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout, stderr syncbuf.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"preview", file, "--out", filepath.Join(t.TempDir(), "p"), "--serve", "0.0.0.0:0", "--viewer-tokens", tokens}, strings.NewReader(""), &stdout, &stderr, func(string) string { return "" }, nil)
	}()
	wait.For(t, 30*time.Second, "the gallery to be served", func() bool {
		select {
		case code := <-done:
			t.Fatalf("preview exited %d\n%s%s", code, stdout.String(), stderr.String())
		default:
		}
		return strings.Contains(stdout.String(), "Ctrl-C to stop")
	}, func() string { return stdout.String() + stderr.String() })
	cancel()
	<-done
	if !strings.Contains(stdout.String(), ", reachable from the network") || strings.Contains(stdout.String(), "0123456789abcdef") {
		t.Errorf("--serve 0.0.0.0:0 --viewer-tokens: want the warning and no token printed\n%s", stdout.String())
	}
}
