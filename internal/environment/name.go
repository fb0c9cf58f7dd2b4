package environment

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/tidings-mail/tidings/internal/yamlnode"
)

// nameRE is what an environment's name may be: it names a directory (the
// state directory), is part of Redis keys, of the queue's name and of a
// refusal code, is a metrics label, and is the --env tidings tells the
// operator to type. ASCII only: two spellings of one accented name (NFC,
// NFD) would be two environments that look alike.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

const nameRule = "an environment's name is 1-63 ASCII letters, digits, '-', '_' and '.', beginning with a letter or digit (it names a directory, Redis keys, metrics labels and the --env you type): rename it"

// checkName refuses a name nameRE does not match: at its line in the
// config file when the file has an environment by that name, else as the
// --env typed.
func checkName(doc *yamlnode.Document, fileName, name string) error {
	if nameRE.MatchString(name) {
		return nil
	}
	e := &yamlnode.Error{Field: fmt.Sprintf("--env %q", name), Msg: nameRule}
	if doc != nil {
		for _, k := range doc.Keys("environments") {
			if k.Name == name {
				e.File, e.Line, e.Field = fileName, k.Line, "environments."+name
			}
		}
	}
	return e
}

// checkTwins refuses environment name of the config file when another of
// its environments has the same name but for case: the two look like one.
func checkTwins(doc *yamlnode.Document, fileName, name string) error {
	line, twin := 0, yamlnode.Key{}
	for _, k := range doc.Keys("environments") {
		switch {
		case k.Name == name:
			line = k.Line
		case strings.EqualFold(k.Name, name):
			twin = k
		}
	}
	if twin.Name == "" {
		return nil
	}
	return &yamlnode.Error{File: fileName, Line: line, Field: "environments." + name,
		Msg: fmt.Sprintf("differs only in case from environments.%s (line %d), which looks like the same environment: give one of them a name of its own", twin.Name, twin.Line)}
}
