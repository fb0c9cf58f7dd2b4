package confirm

import (
	"io"
	"os"
	"strings"
	"testing"
)

func TestProduction(t *testing.T) {
	notATerminal, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer notATerminal.Close()
	for _, tc := range []struct {
		name, flag string
		in         *os.File
		wantErr    string
	}{
		{"the right --confirm", "altea", nil, ""},
		{"the wrong --confirm", "altae", nil, `--confirm "altae" does not match the campaign name "altea"`},
		{"no --confirm and no terminal", "", notATerminal, "this is a production environment: pass --confirm altea to send without a terminal"},
		{"no --confirm and no file", "", nil, "this is a production environment: pass --confirm altea to send without a terminal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			var in io.Reader = strings.NewReader("altea\n") // not a file: never a terminal
			if tc.in != nil {
				in = tc.in
			}
			err := Production(in, &out, "altea", 3, tc.flag)
			if got := errString(err); got != tc.wantErr {
				t.Fatalf("error %q, want %q", got, tc.wantErr)
			}
			if out.Len() != 0 {
				t.Fatalf("asked %q without a terminal", out.String())
			}
		})
	}
}

func TestTyped(t *testing.T) {
	for _, tc := range []struct{ name, typed, wantErr string }{
		{"the name", "altea\n", ""},
		{"the name, spaces around it", "  altea \n", ""},
		{"the name without a newline", "altea", ""},
		{"another name", "altae\n", `not confirmed: you typed "altae", the campaign is "altea"`},
		{"nothing", "", "not confirmed: nothing typed"},
		{"an empty line", "\n", `not confirmed: you typed "", the campaign is "altea"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			err := Typed(strings.NewReader(tc.typed), &out, "altea", 3)
			if got := errString(err); got != tc.wantErr {
				t.Fatalf("error %q, want %q", got, tc.wantErr)
			}
			if want := "This sends 3 messages in PRODUCTION. Type the campaign name (altea) to confirm: "; !strings.Contains(out.String(), want) {
				t.Fatalf("asked %q, want %q", out.String(), want)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
