package redistest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// CA is a certificate authority for tests of Redis over TLS: it signs
// server certificates ([CA.ServerCert]) that a client trusts when its
// machine trusts the CA (SSL_CERT_FILE pointing at [CA.WriteFile]'s file,
// set before the process first verifies a certificate).
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	der  []byte
}

// NewCA makes a CA named name, valid from an hour ago for a day.
func NewCA(name string) (*CA, error) {
	return NewCAValid(name, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
}

// NewCAValid makes a CA named name, valid from notBefore to notAfter.
func NewCAValid(name string, notBefore, notAfter time.Time) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: notBefore, NotAfter: notAfter,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return &CA{cert: cert, key: key, der: der}, err
}

// WriteFile writes the CA's certificate (PEM) to path.
func (ca *CA) WriteFile(path string) error { return writePEM(path, "CERTIFICATE", ca.der) }

// ServerCert writes a server certificate for ips signed by ca, valid from
// notBefore to notAfter, and its key, to a temporary directory of t's; it
// returns their paths, for [StartTLSServer].
func (ca *CA) ServerCert(t testing.TB, ips []net.IP, notBefore, notAfter time.Time) (certFile, keyFile string) {
	t.Helper()
	return ca.leaf(t, &x509.Certificate{Subject: pkix.Name{CommonName: "redis"}, NotBefore: notBefore, NotAfter: notAfter,
		IPAddresses: ips, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
}

// ClientCert writes a client certificate named cn signed by ca, valid from
// notBefore to notAfter, and its key, to a temporary directory of t's; it
// returns their paths (a Redis with tls-auth-clients yes and ca's
// certificate as tls-ca-cert-file takes it).
func (ca *CA) ClientCert(t testing.TB, cn string, notBefore, notAfter time.Time) (certFile, keyFile string) {
	t.Helper()
	return ca.leaf(t, &x509.Certificate{Subject: pkix.Name{CommonName: cn}, NotBefore: notBefore, NotAfter: notAfter,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
}

// leaf signs tmpl with ca and writes the certificate and a new key.
func (ca *CA) leaf(t testing.TB, tmpl *x509.Certificate) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := writePEM(certFile, "CERTIFICATE", der); err != nil {
		t.Fatal(err)
	}
	if err := writePEM(keyFile, "EC PRIVATE KEY", kder); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func writePEM(path, typ string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}
