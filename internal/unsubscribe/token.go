package unsubscribe

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
)

// TokenBytes is how many bytes of the HMAC-SHA256 a token keeps: 16
// bytes (128 bits), written as 22 characters of URL-safe base64 without
// padding.
const TokenBytes = 16

// MinSecretBytes is the shortest unsubscribe secret accepted: a shorter
// one could be guessed, and with it every recipient's token.
const MinSecretBytes = 16

// SecretSettings names where an environment's unsubscribe secret is set,
// for the messages that say to set it.
const SecretSettings = "TIDINGS_UNSUBSCRIBE_SECRET, TIDINGS_UNSUBSCRIBE_SECRET_FILE or unsubscribe_secret_file"

// ErrNoSecret is returned (wrapped) for a template holding {token} when
// no secret is given to compute it.
var ErrNoSecret = errors.New("no unsubscribe secret is set")

// Token returns the unsubscribe token of recipient id under secret:
// base64url-without-padding(HMAC-SHA256(key=secret, message=id)[:16]),
// 22 characters of A-Z, a-z, 0-9, "-" and "_". It depends on the
// recipient id alone, not on the campaign or the environment, so the
// site checks every link it ever sent with one secret, and a link in an
// older mail keeps working; the id, not the address, so that a recipient
// whose address changes keeps their token. Only who holds secret can make
// a token for another id.
func Token(secret []byte, id string) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:TokenBytes])
}

// fingerprintLabel is what KeyFingerprint's HMAC is of: no recipient's
// token, since the fingerprint is a hash of that HMAC, not a part of it.
const fingerprintLabel = "tidings unsubscribe key fingerprint v1"

// KeyFingerprint names secret without telling it: base64url without
// padding of the first 16 bytes of SHA-256(HMAC-SHA256(key=secret,
// message=fingerprintLabel)). Two secrets give two fingerprints. Finding
// the secret from it costs what finding it from any token does (one HMAC
// a guess), and it is no recipient's token. A campaign stores the one of
// the secret it was staged with, so a worker holding another secret, whose
// links the site would refuse, finds out before it sends.
func KeyFingerprint(secret []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(fingerprintLabel))
	sum := sha256.Sum256(mac.Sum(nil))
	return base64.RawURLEncoding.EncodeToString(sum[:TokenBytes])
}

// PreviewSecret is the key of the {token} that previews, galleries and
// rehearsals make when they have no unsubscribe secret: the link has its
// real shape, and no site accepts its token. Nothing that sends mail to a
// recipient uses it.
const PreviewSecret = "tidings preview: not a secret, no site accepts its tokens"

// UsesToken reports whether tmpl holds the {token} placeholder.
func UsesToken(tmpl string) bool { return strings.Contains(tmpl, "{token}") }

// IsWeb reports whether tmpl is an http or https URL (not mailto, not
// empty).
func IsWeb(tmpl string) bool {
	scheme, _, ok := strings.Cut(tmpl, "://")
	return ok && (strings.EqualFold(scheme, "https") || strings.EqualFold(scheme, "http"))
}
