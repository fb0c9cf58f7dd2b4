package environment

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"

	"github.com/tidings-mail/tidings/internal/userfile"
)

// RedisTLS names the files of TLS to Redis beyond the machine's own CAs:
// the CA that signed the servers' certificates, the client certificate
// and key a Redis with tls-auth-clients yes asks for, and the name the
// servers' certificates are for. They apply to every connection to
// Redis: a single node, the Sentinels and their master, a Cluster's
// nodes.
type RedisTLS struct {
	CAFile, CertFile, KeyFile string
	// ServerName replaces the host dialled in the check of the servers'
	// certificates.
	ServerName string
}

// IsSet reports whether any setting is given.
func (t RedisTLS) IsSet() bool { return t != RedisTLS{} }

// tlsProblem is a setting of RedisTLS in error, for validate.
type tlsProblem struct{ key, msg string }

// Config returns the client TLS configuration the files give: only the CA
// of CAFile is trusted when it is set (else the machine's CAs), the client
// certificate is shown when asked for. Its error names the setting and the
// file, and what to do; it never shows the key.
func (t RedisTLS) Config() (*tls.Config, error) {
	c, probs := t.config()
	if len(probs) > 0 {
		return nil, fmt.Errorf("%s %s", probs[0].key, probs[0].msg)
	}
	return c, nil
}

func (t RedisTLS) config() (*tls.Config, []tlsProblem) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	var probs []tlsProblem
	if t.CAFile != "" {
		pool := x509.NewCertPool()
		data, msg := readTLSFile(t.CAFile, "the CA's certificate")
		if msg == "" && !pool.AppendCertsFromPEM(data) {
			msg = fmt.Sprintf("%s holds no PEM certificate (a block -----BEGIN CERTIFICATE-----): give the certificate of the CA that signed Redis's certificate, in PEM", t.CAFile)
		}
		if msg != "" {
			probs = append(probs, tlsProblem{"redis.tls_ca_file", msg})
		}
		c.RootCAs = pool
	}
	switch {
	case t.CertFile == "" && t.KeyFile == "":
	case t.KeyFile == "":
		probs = append(probs, tlsProblem{"redis.tls_cert_file", "is set without redis.tls_key_file: set both, the client certificate and its key"})
	case t.CertFile == "":
		probs = append(probs, tlsProblem{"redis.tls_key_file", "is set without redis.tls_cert_file: set both, the client certificate and its key"})
	default:
		cert, p := clientCert(t.CertFile, t.KeyFile)
		if p != nil {
			probs = append(probs, *p)
			break
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, probs
}

// clientCert loads the client certificate and its key.
func clientCert(certFile, keyFile string) (tls.Certificate, *tlsProblem) {
	certPEM, msg := readTLSFile(certFile, "the client certificate")
	if msg != "" {
		return tls.Certificate{}, &tlsProblem{"redis.tls_cert_file", msg}
	}
	if b, _ := pem.Decode(certPEM); b == nil || b.Type != "CERTIFICATE" {
		return tls.Certificate{}, &tlsProblem{"redis.tls_cert_file", fmt.Sprintf("%s holds no PEM certificate (a block -----BEGIN CERTIFICATE-----): give the client certificate, in PEM", certFile)}
	}
	keyPEM, msg := readTLSFile(keyFile, "the client certificate's key")
	if msg != "" {
		return tls.Certificate{}, &tlsProblem{"redis.tls_key_file", msg}
	}
	if b, _ := pem.Decode(keyPEM); b == nil || b.Type == "CERTIFICATE" {
		return tls.Certificate{}, &tlsProblem{"redis.tls_key_file", fmt.Sprintf("%s holds no PEM private key (a block -----BEGIN ... PRIVATE KEY-----; its content is not shown): give the key of %s, in PEM", keyFile, certFile)}
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// Go's errors name no key material ("private key does not match
		// public key"); the file's content is never quoted.
		return tls.Certificate{}, &tlsProblem{"redis.tls_key_file", fmt.Sprintf("%s is not the key of the certificate in %s (%v): give the key made with that certificate", keyFile, certFile, err)}
	}
	return cert, nil
}

// readTLSFile reads path, what holding what; the message says what is
// wrong and what to do, or is "". The file is read more than once (when
// the environment loads, when Redis is dialled, by doctor), so it must be
// a file (userfile.Read): a named pipe, a shell's <(...) too, is refused
// at once, never waited on.
func readTLSFile(path, what string) ([]byte, string) {
	data, err := userfile.Read(path)
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Sprintf("%s does not exist: write the path of the file holding %s (a path in the config file is relative to it)", path, what)
	case userfile.NotAFile(err): // a pipe, a device, a directory
		return nil, err.Error()
	case errors.As(err, &pe):
		err = pe.Err // the path is said once
		fallthrough
	case err != nil:
		return nil, fmt.Sprintf("%s cannot be read (%v): make it a file the user tidings runs as can read", path, err)
	}
	return data, ""
}

// ClientCertificate returns the client certificate of CertFile (its first
// block), for doctor; nil when none is set.
func (t RedisTLS) ClientCertificate() (*x509.Certificate, error) {
	if t.CertFile == "" {
		return nil, nil
	}
	data, err := userfile.Read(t.CertFile)
	if err != nil {
		return nil, err
	}
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, fmt.Errorf("%s holds no PEM certificate", t.CertFile)
	}
	return x509.ParseCertificate(b.Bytes)
}
