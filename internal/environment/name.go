package environment

import (
	"fmt"
	"strings"

	"github.com/tidings-mail/tidings/internal/envname"
	"github.com/tidings-mail/tidings/internal/yamlnode"
)

const nameRule = envname.Rule + " (it names a directory, Redis keys, metrics labels and the --env you type): rename it"

// checkName refuses a name that may not be an environment's (package
// envname): at its line in the config file when the file has an
// environment by that name, else as the --env typed.
func checkName(doc *yamlnode.Document, fileName, name string) error {
	if envname.Valid(name) {
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
