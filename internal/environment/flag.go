package environment

import (
	"strconv"

	"github.com/tidings-mail/tidings/internal/yamlnode"
)

// Flag is a command-line option that sets a setting for one run. Load
// applies flags over the variables, which apply over the config file
// (flags > variables > file), through the same setter as the variable, and
// names the option (Name) in a problem with the value. Key is the setting
// as Reference lists it (concurrency); Value is the option's text, "" when
// it was not given.
type Flag struct {
	Name, Key, Value string
}

// CountFlag is the Flag of an option that gives a count, where 0 (its
// default) means "the environment's": not given.
func CountFlag(name, key string, n int) Flag {
	f := Flag{Name: name, Key: key}
	if n != 0 {
		f.Value = strconv.Itoa(n)
	}
	return f
}

// flags applies the options given over the variables and the file.
func (b *builder) flags(e *Environment, flags []Flag) {
	for _, f := range flags {
		if f.Value == "" {
			continue
		}
		for _, s := range settings {
			if s.key != f.Key || s.set == nil || s.secret {
				continue
			}
			if err := s.set(e, f.Value); err != nil {
				b.errs = append(b.errs, &yamlnode.Error{Field: f.Name, Err: err})
			} else {
				b.fromVar[f.Key] = f.Name
			}
			break
		}
	}
}
