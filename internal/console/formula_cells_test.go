package console_test

import (
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/csvcell"
	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestExportsDefuseFormulas: recipients whose id, address or locale start
// a spreadsheet formula (OWASP's CSV injection: =HYPERLINK, +cmd|, @SUM,
// -2+3) are staged by the real `tidings send`; in the console's CSV
// download and in `tidings report`'s CSV no cell of theirs starts one
// (each gets a leading quote), csvcell.Uncell gives each back exactly,
// and the JSON report holds them as they are.
func TestExportsDefuseFormulas(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	file := w.WriteCampaign(t, consoletest.Spec{Name: "cells", N: 1})
	hostile := [][]string{ // id, email, locale
		{`=HYPERLINK("http://evil.example","x")`, "=1+1@x.example", "en"},
		{`+cmd|' /C calc'!A0`, "+cmd@x.example", "en"},
		{"@SUM(1)", "-2+3@x.example", "en"},
		{"-2+3", "plain@x.example", "=cmd|' /C calc'!A0"},
	}
	var b strings.Builder
	cw := csv.NewWriter(&b)
	_ = cw.Write([]string{"id", "email", "name", "locale", "posts"})
	for _, h := range hostile {
		_ = cw.Write([]string{h[0], h[1], "Ada", h[2], "1"})
	}
	cw.Flush()
	fixture.Write(t, filepath.Join(filepath.Dir(file), "recipients.csv"), b.String())
	if out, code := w.CLI(t, "send", file, "--env", consoletest.EnvName, "--skip-refused", "--rejects", filepath.Join(t.TempDir(), "r.csv")); code != 0 {
		t.Fatalf("tidings send: exit %d\n%s", code, out)
	}
	v := newSite(t, w, false).signIn(t, viewerToken)
	_, download, _ := v.get("/c/cells/recipients?format=csv")
	reportCSV, code := w.CLI(t, "report", "cells", "--env", consoletest.EnvName)
	if code != 0 {
		t.Fatalf("tidings report: exit %d\n%s", code, reportCSV)
	}
	for name, body := range map[string]string{"console download": download, "report": reportCSV} {
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil || len(rows) != 1+len(hostile) {
			t.Fatalf("%s: %d rows, %v, want header + %d\n%s", name, len(rows), err, len(hostile), body)
		}
		id, email, locale := slices.Index(rows[0], "id"), slices.Index(rows[0], "email"), slices.Index(rows[0], "locale")
		for _, row := range rows[1:] {
			for _, cell := range row {
				if _, err := strconv.Atoi(cell); err != nil && cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) { // a number (batch -1) is no formula
					t.Errorf("%s: cell %q starts a formula (row %q)", name, cell, row)
				}
			}
			got := []string{csvcell.Uncell(row[id]), csvcell.Uncell(row[email]), csvcell.Uncell(row[locale])}
			if !slices.ContainsFunc(hostile, func(h []string) bool { return slices.Equal(h, got) }) {
				t.Errorf("%s: row %q reads back as %q, none of the recipients", name, row, got)
			}
		}
	}
	out, code := w.CLI(t, "report", "cells", "--env", consoletest.EnvName, "--format", "json")
	var doc struct{ Recipients []store.Row }
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil {
		t.Fatalf("report --format json: exit %d\n%s", code, out)
	}
	for _, h := range hostile {
		if !slices.ContainsFunc(doc.Recipients, func(r store.Row) bool { return r.ID == h[0] && r.Email == h[1] && r.Locale == h[2] }) {
			t.Errorf("JSON report lacks %q exactly:\n%s", h, out)
		}
	}
}
