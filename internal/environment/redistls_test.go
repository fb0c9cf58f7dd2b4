package environment

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/redistest"
)

// TestRedisTLSFilesRefusedAtLoad: each redis.tls_* setting in error is
// refused when the environment loads (a configuration error, exit 2),
// in the config file (file:line and the key) or in its variable, with a
// message naming the file and what to do, never the key's content; and
// settings that are right reach every kind of Redis's options: the CA
// alone trusted, the client certificate shown, the server name kept on
// Sentinel and Cluster.
func TestRedisTLSFilesRefusedAtLoad(t *testing.T) {
	t.Parallel()
	ca, err := redistest.NewCA("tidings test CA")
	if err != nil {
		t.Fatal(err)
	}
	other, err := redistest.NewCA("another CA")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := ca.WriteFile(caFile); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	certFile, keyFile := ca.ClientCert(t, "tidings", now.Add(-time.Hour), now.Add(time.Hour))
	_, otherKey := other.ClientCert(t, "tidings", now.Add(-time.Hour), now.Add(time.Hour))
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	for _, tc := range []struct {
		name string
		vars map[string]string
		want []string
	}{
		{"missing CA", map[string]string{"TIDINGS_REDIS_TLS_CA_FILE": missing},
			[]string{"TIDINGS_REDIS_TLS_CA_FILE: ", missing, "does not exist", "write the path"}},
		{"CA not PEM", map[string]string{"TIDINGS_REDIS_TLS_CA_FILE": notPEM},
			[]string{"TIDINGS_REDIS_TLS_CA_FILE: ", notPEM, "holds no PEM certificate"}},
		{"CA is a key", map[string]string{"TIDINGS_REDIS_TLS_CA_FILE": keyFile},
			[]string{"TIDINGS_REDIS_TLS_CA_FILE: ", keyFile, "holds no PEM certificate"}},
		{"certificate without key", map[string]string{"TIDINGS_REDIS_TLS_CERT_FILE": certFile},
			[]string{"TIDINGS_REDIS_TLS_CERT_FILE: ", "without redis.tls_key_file", "set both"}},
		{"key without certificate", map[string]string{"TIDINGS_REDIS_TLS_KEY_FILE": keyFile},
			[]string{"TIDINGS_REDIS_TLS_KEY_FILE: ", "without redis.tls_cert_file"}},
		{"certificate missing", map[string]string{"TIDINGS_REDIS_TLS_CERT_FILE": missing, "TIDINGS_REDIS_TLS_KEY_FILE": keyFile},
			[]string{"TIDINGS_REDIS_TLS_CERT_FILE: ", missing, "does not exist"}},
		{"certificate is the key", map[string]string{"TIDINGS_REDIS_TLS_CERT_FILE": keyFile, "TIDINGS_REDIS_TLS_KEY_FILE": keyFile},
			[]string{"TIDINGS_REDIS_TLS_CERT_FILE: ", keyFile, "holds no PEM certificate"}},
		{"key not PEM", map[string]string{"TIDINGS_REDIS_TLS_CERT_FILE": certFile, "TIDINGS_REDIS_TLS_KEY_FILE": notPEM},
			[]string{"TIDINGS_REDIS_TLS_KEY_FILE: ", notPEM, "holds no PEM private key"}},
		{"key is the certificate", map[string]string{"TIDINGS_REDIS_TLS_CERT_FILE": certFile, "TIDINGS_REDIS_TLS_KEY_FILE": certFile},
			[]string{"TIDINGS_REDIS_TLS_KEY_FILE: ", "holds no PEM private key"}},
		{"key of another certificate", map[string]string{"TIDINGS_REDIS_TLS_CERT_FILE": certFile, "TIDINGS_REDIS_TLS_KEY_FILE": otherKey},
			[]string{"TIDINGS_REDIS_TLS_KEY_FILE: ", otherKey, "is not the key of the certificate in " + certFile, "give the key made with that certificate"}},
		{"without TLS", map[string]string{"TIDINGS_REDIS_URL": "redis://127.0.0.1:6379/0", "TIDINGS_REDIS_TLS_CA_FILE": caFile},
			[]string{"TIDINGS_REDIS_TLS_CA_FILE: ", "applies to TLS only", "rediss://"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := map[string]string{"TIDINGS_REDIS_URL": "rediss://127.0.0.1:6380/0"}
			for k, x := range tc.vars {
				v[k] = x
			}
			_, err := Load(nil, "", "staging", vars(v))
			if err == nil {
				t.Fatalf("Load with %v: no error", tc.vars)
			}
			t.Log(err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Load with %v: %q; want it to say %q", tc.vars, err, w)
				}
			}
			if strings.Contains(err.Error(), strings.TrimSpace(string(keyPEM))[40:80]) {
				t.Errorf("Load: %q shows the key", err)
			}
		})
	}
	t.Run("unreadable", func(t *testing.T) {
		// A directory: unreadable as a file, even to root.
		_, err := Load(nil, "", "staging", vars(map[string]string{"TIDINGS_REDIS_URL": "rediss://127.0.0.1:6380/0", "TIDINGS_REDIS_TLS_CA_FILE": dir}))
		if err == nil || !strings.Contains(err.Error(), "TIDINGS_REDIS_TLS_CA_FILE: "+dir+": is a directory: give the path of a file") {
			t.Errorf("Load with an unreadable CA file: %v", err)
		}
	})

	t.Run("config file", func(t *testing.T) {
		file := "environments:\n  staging:\n    redis:\n      url: rediss://127.0.0.1:6380/0\n      tls_ca_file: missing.pem\n"
		_, err := Load([]byte(file), filepath.Join(dir, "t.yaml"), "staging", vars(nil))
		want := filepath.Join(dir, "t.yaml") + ":5: environments.staging.redis.tls_ca_file: " + missing + " does not exist"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load: %v; want %q (the path relative to the config file)", err, want)
		}
	})

	for _, kind := range []struct {
		name string
		vars map[string]string
	}{
		{"single", map[string]string{"TIDINGS_REDIS_URL": "rediss://127.0.0.1:6380/0"}},
		{"sentinel", map[string]string{"TIDINGS_REDIS_TLS": "true", "TIDINGS_REDIS_SENTINEL_MASTER": "m", "TIDINGS_REDIS_SENTINEL_ADDRS": "127.0.0.1:26379"}},
		{"cluster", map[string]string{"TIDINGS_REDIS_TLS": "true", "TIDINGS_REDIS_CLUSTER_ADDRS": "127.0.0.1:7000"}},
	} {
		t.Run("applied to "+kind.name, func(t *testing.T) {
			v := map[string]string{"TIDINGS_REDIS_TLS_CA_FILE": caFile, "TIDINGS_REDIS_TLS_CERT_FILE": certFile,
				"TIDINGS_REDIS_TLS_KEY_FILE": keyFile, "TIDINGS_REDIS_TLS_SERVER_NAME": "redis.internal"}
			for k, x := range kind.vars {
				v[k] = x
			}
			e, err := Load(nil, "", "staging", vars(v))
			if err != nil {
				t.Fatal(err)
			}
			o, err := e.RedisOptions()
			if err != nil {
				t.Fatal(err)
			}
			c := o.TLSConfig
			if c == nil {
				t.Fatal("no TLS configuration")
			}
			if len(c.Certificates) != 1 || c.ServerName != "redis.internal" || c.RootCAs == nil || c.MinVersion != tls.VersionTLS12 {
				t.Errorf("TLS configuration: %d certificates, server name %q, CAs set %v, min version %x", len(c.Certificates), c.ServerName, c.RootCAs != nil, c.MinVersion)
			}
		})
	}
}
