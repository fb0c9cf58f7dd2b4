// Package envname owns what an environment's name may be: the one rule
// that package environment (which loads an environment by its name) and
// package campaign (whose file pins the environment a campaign may be
// sent in) both check, each refusing a name in its own words. It imports
// nothing of ours.
//
// A name names a directory (the state directory), is part of Redis keys,
// of the queue's name and of a refusal code, is a metrics label, and is
// the --env tidings tells the operator to type. ASCII only: two spellings
// of one accented name (NFC, NFD) would be two environments that look
// alike.
package envname

import "regexp"

// Production is the one name that means production (its refusals and
// approvals: package environment's ProductionName); a name that differs
// from it only in case is refused where it is written.
const Production = "production"

// Rule says what Valid accepts, in the words of the refusals of a name.
const Rule = "an environment's name is 1-63 ASCII letters, digits, '-', '_' and '.', beginning with a letter or digit"

var re = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// Valid reports whether name may be an environment's name (Rule).
func Valid(name string) bool { return re.MatchString(name) }
