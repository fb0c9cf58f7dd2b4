// Package templates embeds the bundled sample templates (one directory per
// template: subject.tmpl, html.tmpl, text.tmpl) used by tidings demo and the
// tests.
package templates

import "embed"

// FS holds the bundled templates, e.g. welcome/html.tmpl.
//
//go:embed welcome/*.tmpl
var FS embed.FS
