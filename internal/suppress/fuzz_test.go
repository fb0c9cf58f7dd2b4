package suppress_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/address"
	"github.com/tidings-mail/tidings/internal/suppress"
)

// FuzzParse: a list, whatever it holds, is read whole or refused with
// the file, line and field of each bad line; never half read. Every line
// that is one address alone (no header) is matched, by its own spelling.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"a@example.com\n# c\n\nB@Example.COM\r\n",
		"email,id\n\"a@example.com\",1\n# c\nb@example.com,2\n",
		"\uFEFFid,Email\n1,jose\u0301@bücher.test\n",
		"email\n\"a@example.com\n",
		"a@example.com, b@example.com\n",
		"nope\n\x00\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := suppress.Parse(bytes.NewReader(data), "f")
		if err != nil {
			var le *suppress.LineError
			if !errors.As(err, &le) || le.File != "f" || le.Line < 1 || le.Field != "email" {
				t.Fatalf("error without file, line and field: %v", err)
			}
			return
		}
		if strings.Contains(strings.ToLower(string(data)), "email") {
			return // may be a CSV: its lines are not addresses alone
		}
		for i, ln := range strings.Split(string(data), "\n") {
			ln = strings.TrimSpace(strings.TrimSuffix(ln, "\r"))
			if i == 0 {
				ln = strings.TrimPrefix(ln, "\uFEFF")
			}
			a, perr := address.Parse(ln)
			if ln == "" || strings.HasPrefix(ln, "#") || perr != nil {
				continue
			}
			if _, ok := l.Match(a); !ok {
				t.Fatalf("line %d (%q) was read but is not matched", i+1, ln)
			}
		}
	})
}
