// Package unsubscribe owns the List-Unsubscribe template of a campaign or
// an environment (list_unsubscribe): its placeholders, {id}, {email} and
// {token}, what makes it valid (Check), the token that makes a link
// impossible to guess (Token), and its expansion for one recipient
// (Expand).
package unsubscribe

import (
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/net/idna"
)

// Check reports whether tmpl is a List-Unsubscribe template that Expand
// expands into a working URL for every recipient: an
// https or http URL with a host, or a mailto URL with an address, whose
// only placeholders are {id} and {email} (any other brace, such as {ID},
// {user_id} or an unclosed {id, would go out as it is, the same useless
// link for everyone), and without "<" or ">" (the header writes the URL
// in angle brackets, which a ">" would close early), and without a user
// name or password (user:password@host), which every recipient would
// read. The sender package's
// composer refuses what it refuses. The error begins with tmpl, quoted,
// and says what to do.
func Check(tmpl string) error {
	const known = "the placeholders are {id}, {email} and {token}, in lower case"
	if err := checkCredentials(tmpl); err != nil {
		return err
	}
	for i := 0; i < len(tmpl); i++ {
		rest := tmpl[i:]
		switch {
		case strings.HasPrefix(rest, "{id}"), strings.HasPrefix(rest, "{email}"), strings.HasPrefix(rest, "{token}"):
			i += strings.IndexByte(rest, '}')
		case rest[0] == '{':
			end := strings.IndexAny(rest[1:], "{}")
			if end < 0 || rest[1+end] == '{' {
				return fmt.Errorf("%q has a { that is not closed: %s (write a literal brace as %%7B)", tmpl, known)
			}
			return fmt.Errorf("%q has the unknown placeholder %s: %s (write a literal brace as %%7B)", tmpl, rest[:end+2], known)
		case rest[0] == '}':
			return fmt.Errorf("%q has a } that closes no placeholder: %s (write a literal brace as %%7D)", tmpl, known)
		case rest[0] == '<', rest[0] == '>':
			// The header holds the URL in angle brackets (<URL>): a ">"
			// would end it there, and what follows would be refused or
			// read as a second URL.
			return fmt.Errorf("%q has %q at byte %d, which a URL cannot hold (List-Unsubscribe writes it as <URL>): give one URL, writing a literal %c as %%%X", tmpl, rest[0], i, rest[0], rest[0])
		}
	}
	if _, err := ASCIIHost(tmpl); err != nil {
		return err
	}
	if UsesToken(tmpl) && !strings.Contains(tmpl, "{id}") {
		return fmt.Errorf("%q has {token} but not {id}: the token is made from the recipient id, which the unsubscribe site needs to check it: add {id}, e.g. ?id={id}&token={token}", tmpl)
	}
	u, err := url.Parse(Expand(tmpl, "id", "email", "token"))
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a URL: give an https:// or mailto: URL", tmpl)
	case u.Scheme == "mailto" && u.Opaque != "":
	case (u.Scheme == "https" || u.Scheme == "http") && u.Host != "":
	default:
		return fmt.Errorf("%q is not an http(s) or mailto URL: give e.g. https://example.com/unsubscribe or mailto:unsubscribe@example.com", tmpl)
	}
	return nil
}

// checkCredentials refuses a user name or password in an http(s)
// template: the header would show them to every recipient. Its error shows
// the template as written, but for the password (xxxxx). It reads the
// authority as net/url does (after "scheme://", up to the first "/", "?"
// or "#"; user information up to its last "@") without parsing the URL,
// since a template the parser refuses as written (a placeholder in the
// host, a brace in the password) must be refused here too, before any
// other error of Check repeats it.
func checkCredentials(tmpl string) error {
	scheme, rest, ok := strings.Cut(tmpl, "://")
	if !ok || !strings.EqualFold(scheme, "https") && !strings.EqualFold(scheme, "http") {
		return nil
	}
	authority := rest
	if end := strings.IndexAny(rest, "/?#"); end >= 0 {
		authority = rest[:end]
	}
	at := strings.LastIndexByte(authority, '@')
	if at < 0 {
		return nil
	}
	shown := tmpl
	if colon := strings.IndexByte(authority[:at], ':'); colon >= 0 {
		start := len(scheme) + len("://")
		shown = tmpl[:start+colon+1] + "xxxxx" + tmpl[start+at:]
	}
	return fmt.Errorf("%q holds a user name or password (before the @ of the host), which every recipient would read in the List-Unsubscribe header: remove it (the unsubscribe link must work without credentials)", shown)
}

// ASCIIHost returns tmpl with the host of an http(s) URL written as
// its A-labels (https://bücher.example/u -> https://xn--bcher-kva.example/u,
// IDNA as address.Parse applies it, which also lower-cases it), the rest as
// written: the header percent-encodes what is not ASCII, and a host written
// so (b%C3%BCcher.example) is one that HTTP clients running one-click
// (RFC 8058) do not find (RFC 3986 section 3.2.2 asks for the IDNA form).
// An ASCII host, and a mailto URL, are left as they are. The error, for a
// host IDNA refuses, begins with tmpl, quoted, and says what to do.
func ASCIIHost(tmpl string) (string, error) {
	scheme, rest, ok := strings.Cut(tmpl, "://")
	if !ok || !strings.EqualFold(scheme, "https") && !strings.EqualFold(scheme, "http") {
		return tmpl, nil
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	start := strings.LastIndexByte(rest[:end], '@') + 1
	host := rest[start:end]
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.HasSuffix(host, "]") {
		host = host[:i]
	}
	if isASCII(host) {
		return tmpl, nil
	}
	ascii, err := idna.Lookup.ToASCII(host)
	if err != nil {
		return "", fmt.Errorf("%q has the host %q, which is not a domain name IDNA accepts: give the unsubscribe site's domain, in Unicode or as its xn-- form", tmpl, host)
	}
	at := len(scheme) + len("://") + start
	return tmpl[:at] + ascii + tmpl[at+len(host):], nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// Expand expands a List-Unsubscribe template: {id} and {email} are
// replaced by the percent-escaped recipient id and address (escape), which
// read back as they were in a query, a path or a mailto URL, and {token}
// by token (Token's, which needs no escaping).
func Expand(tmpl, id, email, token string) string {
	if strings.IndexByte(tmpl, '{') < 0 {
		return tmpl
	}
	var b strings.Builder
	b.Grow(len(tmpl) + len(id) + len(email) + len(token))
	expand(&b, tmpl, id, email, token)
	return b.String()
}

// Bracketed returns "<" + Expand(tmpl, id, email, token) + ">", the
// List-Unsubscribe value of the one URI, made at once (one allocation,
// not two or three).
func Bracketed(tmpl, id, email, token string) string {
	var b strings.Builder
	b.Grow(len(tmpl) + len(id) + len(email) + len(token) + 2)
	b.WriteByte('<')
	expand(&b, tmpl, id, email, token)
	b.WriteByte('>')
	return b.String()
}

// expand writes Expand(tmpl, id, email, token) to b.
func expand(b *strings.Builder, tmpl, id, email, token string) {
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			b.WriteString(tmpl)
			return
		}
		b.WriteString(tmpl[:i])
		switch rest := tmpl[i:]; {
		case strings.HasPrefix(rest, "{id}"):
			b.WriteString(escape(id))
			tmpl = rest[len("{id}"):]
		case strings.HasPrefix(rest, "{email}"):
			b.WriteString(escape(email))
			tmpl = rest[len("{email}"):]
		case strings.HasPrefix(rest, "{token}"):
			b.WriteString(escape(token))
			tmpl = rest[len("{token}"):]
		default:
			b.WriteByte('{')
			tmpl = rest[1:]
		}
	}
}

// escape percent-escapes s for any place in a URL: as url.QueryEscape,
// but a space is %20, not "+", which reads back as a plus in a path and in
// a mailto URL (RFC 6068).
func escape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// NamesRecipient reports whether a one-click unsubscribe (RFC 8058) to
// tmpl tells the site who clicked. An https template gets one-click, and
// mail clients then POST to the URL with nothing else (no cookie, never the
// #fragment): without {id} or {email} before any "#", a click unsubscribes
// nobody while the mail client says it did. http (no one-click) and mailto
// templates pass, as does anything Check refuses (its error says it).
//
// Not part of Check: Check runs wherever a campaign or an environment is
// read (pause, cancel, a worker mid-campaign), and a URL accepted before
// must not stop those; this is for where a campaign is about to be staged.
// The error begins with tmpl, quoted, and says what to write.
func NamesRecipient(tmpl string) error {
	scheme, _, ok := strings.Cut(tmpl, "://")
	if !ok || !strings.EqualFold(scheme, "https") {
		return nil
	}
	sent, _, _ := strings.Cut(tmpl, "#")
	if strings.Contains(sent, "{id}") || strings.Contains(sent, "{email}") {
		return nil
	}
	sep := "?"
	switch {
	case strings.HasSuffix(sent, "?"), strings.HasSuffix(sent, "&"):
		sep = ""
	case strings.Contains(sent, "?"):
		sep = "&"
	}
	return fmt.Errorf("%q names no recipient: mail clients POST a one-click unsubscribe (RFC 8058) to the URL with nothing else (no cookie, no #fragment), so a click would unsubscribe nobody while the mail client says it did: put {id} or {email} in its path or query, e.g. %s, or give a mailto: URL",
		tmpl, sent+sep+"id={id}")
}
