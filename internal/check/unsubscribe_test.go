package check

import (
	"context"
	"strings"
	"testing"
)

// TestCheckListUnsubscribeNamingNobody: check CAMPAIGN counts an https
// list_unsubscribe without {id} or {email} as an error at its line, as
// send refuses it; one that names the recipient, http and mailto are not
// problems.
func TestCheckListUnsubscribeNamingNobody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url  string
		want string // the problem; "" for none
	}{
		{"https://altea.example/unsubscribe", `c.yaml:9: list_unsubscribe: "https://altea.example/unsubscribe" names no recipient: `},
		{"https://altea.example/unsubscribe?id={id}", ""},
		{"http://altea.example/unsubscribe", ""},
		{"mailto:unsubscribe@altea.example", ""},
	}
	for _, tt := range tests {
		res, err := Inspect(context.Background(), Options{Campaign: dataCampaign(t, "  x: 1\nlist_unsubscribe: "+tt.url+"\n", nil)})
		if err != nil {
			t.Fatalf("%s: %v", tt.url, err)
		}
		var found []string
		for _, p := range res.Problems {
			if p.Key == "list_unsubscribe" {
				found = append(found, p.String())
			}
		}
		switch {
		case tt.want == "" && (len(found) > 0 || res.Errors > 0):
			t.Errorf("%s: %d errors, %q, want none", tt.url, res.Errors, found)
		case tt.want != "" && (len(found) != 1 || !strings.Contains(found[0], tt.want) || res.Errors != 1 || res.Counted != 1):
			t.Errorf("%s: %d errors (counted %d), %q, want one: %s", tt.url, res.Errors, res.Counted, found, tt.want)
		}
	}
}
