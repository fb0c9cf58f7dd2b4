// Package locales embeds the bundled sample catalogs (<lang>.toml, go-i18n
// message files) used by tidings demo and the tests.
package locales

import "embed"

// FS holds the bundled catalogs, e.g. de.toml.
//
//go:embed *.toml
var FS embed.FS
