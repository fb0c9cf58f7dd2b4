package doctor

import (
	"fmt"
	"math"
	"time"

	"github.com/tidings-mail/tidings/internal/environment"
)

// CertRenewWithin is how close to its expiry a client certificate to
// Redis makes doctor warn.
const CertRenewWithin = 14 * 24 * time.Hour

// clientCert says which client certificate e shows Redis
// (redis.tls_cert_file) and when it expires, as of now: a warning within
// CertRenewWithin, a failure once expired or before it is valid. ok is
// false when e shows none. The key is never read here.
func clientCert(e *environment.Environment, now time.Time) (c Check, ok bool) {
	const name = "redis client certificate"
	t := e.Redis.TLSFiles
	if t.CertFile == "" {
		return Check{}, false
	}
	cert, err := t.ClientCertificate()
	if err != nil {
		return fail(name, fmt.Sprintf("%s: %v: check redis.tls_cert_file", t.CertFile, err)), true
	}
	what := fmt.Sprintf("%s (%q, issued by %q, serial %s)", t.CertFile, cert.Subject.CommonName, cert.Issuer.CommonName, cert.SerialNumber)
	left := cert.NotAfter.Sub(now)
	days := int(math.Floor(left.Hours() / 24))
	expiry := cert.NotAfter.UTC().Format(time.RFC3339)
	switch {
	case left <= 0:
		return fail(name, fmt.Sprintf("%s expired at %s: Redis refuses it; renew it and point redis.tls_cert_file and redis.tls_key_file at the new certificate and key", what, expiry)), true
	case now.Before(cert.NotBefore):
		return fail(name, fmt.Sprintf("%s is not valid before %s: check this machine's clock, or use a certificate valid now", what, cert.NotBefore.UTC().Format(time.RFC3339))), true
	case left < CertRenewWithin:
		return warn(name, fmt.Sprintf("%s expires at %s, in %d day(s): renew it before then (Redis refuses it once expired)", what, expiry, days)), true
	}
	return pass(name, fmt.Sprintf("%s, expires at %s, in %d days", what, expiry, days)), true
}
