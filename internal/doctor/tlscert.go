package doctor

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/tidings-mail/tidings/internal/environment"
)

// CertRenewWithin is how close to its expiry a client certificate to
// Redis, or the CA trusted for Redis's, makes doctor warn.
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
	return expiry(name, what, cert, now, expiryAdvice{
		expired: "Redis refuses it; renew it and point redis.tls_cert_file and redis.tls_key_file at the new certificate and key",
		renew:   "renew it before then (Redis refuses it once expired)",
	}), true
}

// caCert says which CA e trusts for Redis's certificate
// (redis.tls_ca_file) and when it expires, as of now, as clientCert does.
// A file of several certificates (a CA and its successor) is judged by
// the one valid longest, and names the others. ok is false when e sets no
// CA file (the machine's CAs are trusted).
func caCert(e *environment.Environment, now time.Time) (c Check, ok bool) {
	const name = "redis CA certificate"
	file := e.Redis.TLSFiles.CAFile
	if file == "" {
		return Check{}, false
	}
	certs, err := readCerts(file)
	if err != nil {
		return fail(name, fmt.Sprintf("%s: %v: check redis.tls_ca_file", file, err)), true
	}
	best := certs[0]
	for _, c := range certs[1:] {
		if validAt(c, now) && (!validAt(best, now) || c.NotAfter.After(best.NotAfter)) {
			best = c
		}
	}
	what := fmt.Sprintf("%s (%q, serial %s)", file, best.Subject.CommonName, best.SerialNumber)
	if len(certs) > 1 {
		var others []string
		for _, c := range certs {
			if c != best {
				others = append(others, fmt.Sprintf("%q until %s", c.Subject.CommonName, c.NotAfter.UTC().Format(time.RFC3339)))
			}
		}
		what = fmt.Sprintf("%s, of %d certificates (also %s)", what, len(certs), strings.Join(others, ", "))
	}
	return expiry(name, what, best, now, expiryAdvice{
		expired: "Redis's certificate is no longer trusted; point redis.tls_ca_file at the CA's renewed certificate",
		renew:   "get the CA's renewed certificate and add it to redis.tls_ca_file before then (Redis's certificate is not trusted once it has expired)",
	}), true
}

// expiryAdvice is what to do about a certificate of expiry's, once
// expired and when it expires within CertRenewWithin.
type expiryAdvice struct{ expired, renew string }

// expiry says when cert (what names it) expires, as of now: a warning
// within CertRenewWithin, a failure once expired or before it is valid.
func expiry(name, what string, cert *x509.Certificate, now time.Time, advice expiryAdvice) Check {
	left := cert.NotAfter.Sub(now)
	days := int(math.Floor(left.Hours() / 24))
	at := cert.NotAfter.UTC().Format(time.RFC3339)
	switch {
	case left <= 0:
		return fail(name, fmt.Sprintf("%s expired at %s: %s", what, at, advice.expired))
	case now.Before(cert.NotBefore):
		return fail(name, fmt.Sprintf("%s is not valid before %s: check this machine's clock, or use a certificate valid now", what, cert.NotBefore.UTC().Format(time.RFC3339)))
	case left < CertRenewWithin:
		return warn(name, fmt.Sprintf("%s expires at %s, in %d day(s): %s", what, at, days, advice.renew))
	}
	return pass(name, fmt.Sprintf("%s, expires at %s, in %d days", what, at, days))
}

func validAt(c *x509.Certificate, now time.Time) bool {
	return !now.Before(c.NotBefore) && now.Before(c.NotAfter)
}

// readCerts reads every PEM certificate in file.
func readCerts(file string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("no PEM certificate (a block -----BEGIN CERTIFICATE-----)")
	}
	return certs, nil
}
