// Package environment describes the named targets tidings sends in
// (staging, production, ...): their Redis, their SMTP server and their
// safety settings.
//
// An environment comes from a YAML config file, overridden by TIDINGS_*
// variables (see Reference for the full list):
//
//	environments:
//	  staging:
//	    production: false            # the name "production" is always production
//	    redis:
//	      url: redis://redis.staging:6379/0   # rediss:// for TLS; no password here
//	      password_file: /run/secrets/redis   # or TIDINGS_REDIS_PASSWORD
//	      tls: false
//	      sentinel: { master: mymaster, addrs: [s1:26379, s2:26379], password_file: ... }
//	      cluster: [n1:6379, n2:6379]          # Redis Cluster seed nodes
//	    smtp:
//	      host: smtp.staging.example
//	      port: 587
//	      tls: starttls                       # none | opportunistic | starttls | tls
//	      username: tidings
//	      password_file: /run/secrets/smtp    # or TIDINGS_SMTP_PASSWORD
//	      connections: 8                      # SMTP connections per worker
//	      helo: tidings.staging.example
//	    allow: [example.com, "*.qa.example", qa@altea.example]
//	    list_unsubscribe: https://altea.example/unsubscribe
//	    concurrency: 8                        # recipients processed at once per worker
//
// Secrets (passwords) are read only from TIDINGS_*_PASSWORD variables or from
// password files; a password written into the config file (as password: or
// inside a Redis URL) is an error. A [Secret] never prints: fmt, JSON, YAML
// and slog all show "***".
//
// With no config file, the environment is built from defaults (Redis
// redis://127.0.0.1:6379/0, SMTP 127.0.0.1:1025 without TLS) and the
// variables.
package environment

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
	"gopkg.in/yaml.v3"
)

// Defaults for an environment.
const (
	DefaultRedisURL    = "redis://127.0.0.1:6379/0"
	DefaultSMTPHost    = "127.0.0.1"
	DefaultSMTPPort    = 1025
	DefaultConnections = 8
	ProductionName     = "production"
)

// TLSPolicy says how the SMTP connection is secured.
type TLSPolicy string

// SMTP TLS policies.
const (
	// TLSNone never uses TLS (only for loopback test servers).
	TLSNone TLSPolicy = "none"
	// TLSOpportunistic uses STARTTLS when the server offers it.
	TLSOpportunistic TLSPolicy = "opportunistic"
	// TLSStartTLS requires STARTTLS.
	TLSStartTLS TLSPolicy = "starttls"
	// TLSImplicit connects with TLS from the start (SMTPS, usually port 465).
	TLSImplicit TLSPolicy = "tls"
)

// Environment is one named target.
type Environment struct {
	Name string
	// Production is true for the environment named "production" and for any
	// marked production: true (or TIDINGS_PRODUCTION=true).
	Production bool
	Redis      Redis
	SMTP       SMTP
	// Allow restricts recipients to these domains ("example.com"), domain
	// suffixes ("*.example.com") or exact addresses; empty allows everyone.
	Allow []string
	// ListUnsubscribe is the List-Unsubscribe URL of campaigns sent in this
	// environment that set none ({id} and {email} are replaced).
	ListUnsubscribe string
	// Concurrency is how many chunks one worker processes at once, each on
	// its own SMTP connection (default: SMTP.Connections); the worker's
	// --concurrency overrides it.
	Concurrency int
	// Source says where the settings came from, for messages.
	Source string
}

// Redis is how to reach Redis.
type Redis struct {
	// URL is redis://[user@]host:port/db or rediss:// (TLS); it never holds
	// a password (a password given in TIDINGS_REDIS_URL is moved to Password).
	URL      string
	Password Secret
	TLS      bool
	Sentinel Sentinel
	// Cluster lists Redis Cluster seed nodes (host:port); it replaces URL's
	// address.
	Cluster []string
}

// Sentinel names a Sentinel-managed Redis.
type Sentinel struct {
	Master   string
	Addrs    []string
	Password Secret
}

// SMTP is how to reach the SMTP server.
type SMTP struct {
	Host        string
	Port        int
	TLS         TLSPolicy
	Username    string
	Password    Secret
	Connections int
	HELO        string
}

// Addr returns host:port.
func (s SMTP) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Variables read by Load, in the order Reference lists them.
var variables = []struct{ name, help string }{
	{"TIDINGS_PRODUCTION", "true marks the environment as production (cannot unmark one)"},
	{"TIDINGS_REDIS_URL", "redis://[user@]host:port/db, rediss:// for TLS (a password in it is taken as the password)"},
	{"TIDINGS_REDIS_PASSWORD", "Redis password (secret)"},
	{"TIDINGS_REDIS_PASSWORD_FILE", "file holding the Redis password"},
	{"TIDINGS_REDIS_TLS", "true to use TLS to Redis"},
	{"TIDINGS_REDIS_SENTINEL_MASTER", "Sentinel master name"},
	{"TIDINGS_REDIS_SENTINEL_ADDRS", "comma-separated Sentinel host:port list"},
	{"TIDINGS_REDIS_SENTINEL_PASSWORD", "Sentinel password (secret)"},
	{"TIDINGS_REDIS_CLUSTER_ADDRS", "comma-separated Redis Cluster host:port list"},
	{"TIDINGS_SMTP_HOST", "SMTP host"},
	{"TIDINGS_SMTP_PORT", "SMTP port"},
	{"TIDINGS_SMTP_TLS", "none, opportunistic, starttls or tls"},
	{"TIDINGS_SMTP_USERNAME", "SMTP user name"},
	{"TIDINGS_SMTP_PASSWORD", "SMTP password (secret)"},
	{"TIDINGS_SMTP_PASSWORD_FILE", "file holding the SMTP password"},
	{"TIDINGS_SMTP_CONNECTIONS", "SMTP connections per worker"},
	{"TIDINGS_SMTP_HELO", "name sent in EHLO"},
	{"TIDINGS_ALLOW", "comma-separated allowlist of domains, *.suffixes and addresses"},
	{"TIDINGS_LIST_UNSUBSCRIBE", "List-Unsubscribe URL"},
	{"TIDINGS_CONCURRENCY", "recipients processed at once per worker"},
}

// Reference returns the documentation of the config file and every TIDINGS_*
// variable, for the CLI's help.
func Reference() string {
	var b strings.Builder
	b.WriteString(`Environments come from the config file (key environments.<name>) and these
variables, which override the chosen environment's settings. Secrets are read
only from variables and password files, never from the config file.

`)
	for _, v := range variables {
		fmt.Fprintf(&b, "  %-32s %s\n", v.name, v.help)
	}
	fmt.Fprintf(&b, "\nWithout a config file: Redis %s, SMTP %s:%d without TLS.\n", DefaultRedisURL, DefaultSMTPHost, DefaultSMTPPort)
	b.WriteString("The environment named production is always a production environment.\n")
	return b.String()
}

type rawFile struct {
	Environments map[string]*rawEnv `yaml:"environments"`
}

type rawEnv struct {
	Production      *bool    `yaml:"production"`
	Redis           rawRedis `yaml:"redis"`
	SMTP            rawSMTP  `yaml:"smtp"`
	Allow           []string `yaml:"allow"`
	ListUnsubscribe string   `yaml:"list_unsubscribe"`
	Concurrency     int      `yaml:"concurrency"`
}

type rawRedis struct {
	URL          string      `yaml:"url"`
	Password     *literal    `yaml:"password"`
	PasswordFile string      `yaml:"password_file"`
	TLS          bool        `yaml:"tls"`
	Sentinel     rawSentinel `yaml:"sentinel"`
	Cluster      []string    `yaml:"cluster"`
}

type rawSentinel struct {
	Master       string   `yaml:"master"`
	Addrs        []string `yaml:"addrs"`
	Password     *literal `yaml:"password"`
	PasswordFile string   `yaml:"password_file"`
}

type rawSMTP struct {
	Host         string   `yaml:"host"`
	Port         int      `yaml:"port"`
	TLS          string   `yaml:"tls"`
	Username     string   `yaml:"username"`
	Password     *literal `yaml:"password"`
	PasswordFile string   `yaml:"password_file"`
	Connections  int      `yaml:"connections"`
	HELO         string   `yaml:"helo"`
}

// Load returns the environment called name from the config file (may be
// empty: then the environment is built from defaults and variables), with
// the TIDINGS_* variables read through getenv applied on top. fileName names
// the config file in messages; password files are resolved relative to it
// and read here.
func Load(configFile []byte, fileName, name string, getenv func(string) string) (*Environment, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, errors.New("no environment given: choose one with --env (e.g. --env staging)")
	}
	raw := &rawEnv{}
	source := "defaults and TIDINGS_* variables"
	baseDir := "."
	if len(bytes.TrimSpace(configFile)) > 0 {
		baseDir = filepath.Dir(fileName)
		source = fileName + " and TIDINGS_* variables"
		var f rawFile
		dec := yaml.NewDecoder(bytes.NewReader(configFile))
		dec.KnownFields(true)
		if err := dec.Decode(&f); err != nil {
			return nil, configError(fileName, err)
		}
		r, ok := f.Environments[name]
		if !ok {
			names := make([]string, 0, len(f.Environments))
			for n := range f.Environments {
				names = append(names, n)
			}
			sort.Strings(names)
			return nil, fmt.Errorf("%s: no environment %q (it defines %s): pick one of those or add environments.%s", fileName, name, strings.Join(names, ", "), name)
		}
		if r != nil {
			raw = r
		}
		if err := literalSecrets(fileName, name, raw); err != nil {
			return nil, err
		}
	}
	e, err := build(raw, name, fileName, baseDir, getenv)
	if err != nil {
		return nil, err
	}
	e.Source = source
	return e, nil
}

var (
	lineRE    = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownRE = regexp.MustCompile(`^field (\S+) not found in type (\S+)$`)
	knownKeys = map[string]string{}
)

func init() {
	for _, v := range []any{rawFile{}, rawEnv{}, rawRedis{}, rawSentinel{}, rawSMTP{}} {
		t := reflect.TypeOf(v)
		keys := make([]string, t.NumField())
		for i := range keys {
			keys[i] = strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		}
		knownKeys[t.String()] = strings.Join(keys, ", ")
	}
}

// configError turns a YAML error into file:line messages that say what to do.
func configError(file string, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := lineRE.FindStringSubmatch(msg); m != nil {
			return fmt.Errorf("%s:%s: %s: fix the YAML syntax", file, m[1], m[2])
		}
		return fmt.Errorf("%s: %s: fix the YAML syntax", file, msg)
	}
	var errs []error
	for _, msg := range te.Errors {
		m := lineRE.FindStringSubmatch(msg)
		switch {
		case m == nil:
			errs = append(errs, fmt.Errorf("%s: %s", file, msg))
		case unknownRE.MatchString(m[2]):
			u := unknownRE.FindStringSubmatch(m[2])
			errs = append(errs, fmt.Errorf("%s:%s: unknown key %s: check the spelling; known keys here are %s", file, m[1], u[1], knownKeys[u[2]]))
		default:
			errs = append(errs, fmt.Errorf("%s:%s: %s: fix the value", file, m[1], strings.ReplaceAll(m[2], "!!", "")))
		}
	}
	return errors.Join(errs...)
}

// literal records where a forbidden key was written, never its value.
type literal struct{ line int }

func (l *literal) UnmarshalYAML(n *yaml.Node) error {
	l.line = n.Line
	return nil
}

// literalSecrets refuses passwords written into the config file.
func literalSecrets(file, name string, r *rawEnv) error {
	var errs []error
	check := func(n *literal, key, variable string) {
		if n != nil {
			errs = append(errs, fmt.Errorf("%s:%d: environments.%s.%s: secrets are not read from the config file: remove it and use %s_file or %s",
				file, n.line, name, key, key, variable))
		}
	}
	check(r.Redis.Password, "redis.password", "TIDINGS_REDIS_PASSWORD")
	check(r.Redis.Sentinel.Password, "redis.sentinel.password", "TIDINGS_REDIS_SENTINEL_PASSWORD")
	check(r.SMTP.Password, "smtp.password", "TIDINGS_SMTP_PASSWORD")
	if u, err := url.Parse(r.Redis.URL); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			errs = append(errs, fmt.Errorf("%s: environments.%s.redis.url holds a password: remove it from the URL and use redis.password_file or TIDINGS_REDIS_PASSWORD", file, name))
		}
	}
	return errors.Join(errs...)
}

func build(r *rawEnv, name, file, baseDir string, getenv func(string) string) (*Environment, error) {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	e := &Environment{
		Name:            name,
		Production:      name == ProductionName,
		Allow:           r.Allow,
		ListUnsubscribe: r.ListUnsubscribe,
		Concurrency:     r.Concurrency,
		Redis: Redis{
			URL:      r.Redis.URL,
			TLS:      r.Redis.TLS,
			Sentinel: Sentinel{Master: r.Redis.Sentinel.Master, Addrs: r.Redis.Sentinel.Addrs},
			Cluster:  r.Redis.Cluster,
		},
		SMTP: SMTP{
			Host:        r.SMTP.Host,
			Port:        r.SMTP.Port,
			TLS:         TLSPolicy(strings.ToLower(r.SMTP.TLS)),
			Username:    r.SMTP.Username,
			Connections: r.SMTP.Connections,
			HELO:        r.SMTP.HELO,
		},
	}
	if r.Production != nil {
		if !*r.Production && name == ProductionName {
			fail("%s: environments.production.production: false: the environment named production is always production; remove the key", file)
		}
		e.Production = e.Production || *r.Production
	}
	// readSecret reads a password file; paths from the config file are
	// relative to it, paths from variables to the working directory.
	readSecret := func(path, what string, fromFile bool) Secret {
		if path == "" {
			return ""
		}
		if fromFile && !filepath.IsAbs(path) {
			path = filepath.Join(baseDir, path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			fail("read %s password file: %w: create it or fix the path", what, err)
			return ""
		}
		return Secret(strings.TrimRight(string(b), "\r\n"))
	}
	e.Redis.Password = readSecret(r.Redis.PasswordFile, "Redis", true)
	e.Redis.Sentinel.Password = readSecret(r.Redis.Sentinel.PasswordFile, "Redis Sentinel", true)
	e.SMTP.Password = readSecret(r.SMTP.PasswordFile, "SMTP", true)

	// Variables override the file.
	str := func(v string, dst *string) {
		if s := strings.TrimSpace(getenv(v)); s != "" {
			*dst = s
		}
	}
	boolean := func(v string, dst *bool) {
		s := strings.TrimSpace(getenv(v))
		if s == "" {
			return
		}
		b, err := strconv.ParseBool(s)
		if err != nil {
			fail("%s=%q is not a boolean: use true or false", v, s)
			return
		}
		*dst = b
	}
	integer := func(v string, dst *int) {
		s := strings.TrimSpace(getenv(v))
		if s == "" {
			return
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			fail("%s=%q is not a whole number", v, s)
			return
		}
		*dst = n
	}
	list := func(v string, dst *[]string) {
		if s := strings.TrimSpace(getenv(v)); s != "" {
			var out []string
			for _, p := range strings.Split(s, ",") {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
			*dst = out
		}
	}
	secret := func(v string, dst *Secret) {
		if s := getenv(v); s != "" {
			*dst = Secret(s)
		}
	}

	if s := strings.TrimSpace(getenv("TIDINGS_PRODUCTION")); s != "" {
		p, err := strconv.ParseBool(s)
		switch {
		case err != nil:
			fail("TIDINGS_PRODUCTION=%q is not a boolean: use true or false", s)
		case !p && e.Production:
			fail("TIDINGS_PRODUCTION=false cannot unmark production environment %s: unset it", name)
		default:
			e.Production = e.Production || p
		}
	}
	str("TIDINGS_REDIS_URL", &e.Redis.URL)
	if f := getenv("TIDINGS_REDIS_PASSWORD_FILE"); f != "" {
		e.Redis.Password = readSecret(f, "Redis", false)
	}
	secret("TIDINGS_REDIS_PASSWORD", &e.Redis.Password)
	boolean("TIDINGS_REDIS_TLS", &e.Redis.TLS)
	str("TIDINGS_REDIS_SENTINEL_MASTER", &e.Redis.Sentinel.Master)
	list("TIDINGS_REDIS_SENTINEL_ADDRS", &e.Redis.Sentinel.Addrs)
	secret("TIDINGS_REDIS_SENTINEL_PASSWORD", &e.Redis.Sentinel.Password)
	list("TIDINGS_REDIS_CLUSTER_ADDRS", &e.Redis.Cluster)
	str("TIDINGS_SMTP_HOST", &e.SMTP.Host)
	integer("TIDINGS_SMTP_PORT", &e.SMTP.Port)
	var tlsVar string
	str("TIDINGS_SMTP_TLS", &tlsVar)
	if tlsVar != "" {
		e.SMTP.TLS = TLSPolicy(strings.ToLower(tlsVar))
	}
	str("TIDINGS_SMTP_USERNAME", &e.SMTP.Username)
	if f := getenv("TIDINGS_SMTP_PASSWORD_FILE"); f != "" {
		e.SMTP.Password = readSecret(f, "SMTP", false)
	}
	secret("TIDINGS_SMTP_PASSWORD", &e.SMTP.Password)
	integer("TIDINGS_SMTP_CONNECTIONS", &e.SMTP.Connections)
	str("TIDINGS_SMTP_HELO", &e.SMTP.HELO)
	list("TIDINGS_ALLOW", &e.Allow)
	str("TIDINGS_LIST_UNSUBSCRIBE", &e.ListUnsubscribe)
	integer("TIDINGS_CONCURRENCY", &e.Concurrency)

	// A password inside the URL (allowed from the variable) becomes the
	// secret, so the URL itself can be printed.
	if e.Redis.URL == "" {
		e.Redis.URL = DefaultRedisURL
	}
	u, err := url.Parse(e.Redis.URL)
	switch {
	case err != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix"):
		fail("environment %s: Redis URL %q is not redis://host:port/db or rediss://: fix redis.url or TIDINGS_REDIS_URL", name, redact(e.Redis.URL))
	default:
		if u.User != nil {
			if pw, has := u.User.Password(); has {
				if e.Redis.Password == "" {
					e.Redis.Password = Secret(pw)
				}
				if user := u.User.Username(); user != "" {
					u.User = url.User(user)
				} else {
					u.User = nil
				}
				e.Redis.URL = u.String()
			}
		}
		if u.Scheme == "rediss" {
			e.Redis.TLS = true
		}
	}
	if (e.Redis.Sentinel.Master == "") != (len(e.Redis.Sentinel.Addrs) == 0) {
		fail("environment %s: Redis Sentinel needs both a master name and addresses: set redis.sentinel.master and redis.sentinel.addrs", name)
	}
	if e.Redis.Sentinel.Master != "" && len(e.Redis.Cluster) > 0 {
		fail("environment %s: Redis cannot be both Sentinel and Cluster: keep one of redis.sentinel and redis.cluster", name)
	}

	if e.SMTP.Host == "" {
		e.SMTP.Host = DefaultSMTPHost
		if e.SMTP.Port == 0 {
			e.SMTP.Port = DefaultSMTPPort
		}
	}
	switch e.SMTP.TLS {
	case "":
		e.SMTP.TLS = TLSStartTLS
		if isLoopback(e.SMTP.Host) {
			e.SMTP.TLS = TLSNone
		}
	case "true":
		e.SMTP.TLS = TLSStartTLS
	case "false":
		e.SMTP.TLS = TLSNone
	case TLSNone, TLSOpportunistic, TLSStartTLS, TLSImplicit:
	default:
		fail("environment %s: SMTP TLS %q is unknown: use none, opportunistic, starttls or tls", name, e.SMTP.TLS)
	}
	if e.SMTP.Port == 0 {
		switch e.SMTP.TLS {
		case TLSImplicit:
			e.SMTP.Port = 465
		case TLSNone:
			e.SMTP.Port = 25
		default:
			e.SMTP.Port = 587
		}
	}
	if e.SMTP.Port < 1 || e.SMTP.Port > 65535 {
		fail("environment %s: SMTP port %d is out of range: use 1-65535", name, e.SMTP.Port)
	}
	if e.SMTP.Connections == 0 {
		e.SMTP.Connections = DefaultConnections
	}
	if e.SMTP.Connections < 1 {
		fail("environment %s: SMTP connections %d: use 1 or more", name, e.SMTP.Connections)
	}
	if e.Concurrency == 0 {
		e.Concurrency = e.SMTP.Connections
	}
	if e.Concurrency < 1 {
		fail("environment %s: concurrency %d: use 1 or more", name, e.Concurrency)
	}
	for i, a := range e.Allow {
		a = strings.ToLower(strings.TrimSpace(a))
		e.Allow[i] = a
		at := strings.LastIndexByte(a, '@')
		if a == "" || a == "*." || at == 0 || at == len(a)-1 || strings.ContainsAny(a, " ,<>") {
			fail("environment %s: allow entry %q is neither a domain, a *.suffix nor an address: fix it", name, a)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return e, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redact hides the password in a URL for messages.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Allowed reports whether email may receive mail in this environment: true
// when the allowlist is empty, else when the address, its domain or a
// *.suffix of its domain is listed (case-insensitively).
func (e *Environment) Allowed(email string) bool {
	if e == nil || len(e.Allow) == 0 {
		return true
	}
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return false
	}
	domain := email[at+1:]
	for _, a := range e.Allow {
		switch {
		case strings.Contains(a, "@"):
			if strings.EqualFold(a, email) {
				return true
			}
		case strings.HasPrefix(a, "*."):
			suffix := a[1:] // ".example.com"
			if len(domain) > len(suffix) && strings.EqualFold(domain[len(domain)-len(suffix):], suffix) {
				return true
			}
		default:
			if strings.EqualFold(a, domain) {
				return true
			}
		}
	}
	return false
}

// RefusalCode is the reason code for recipients outside the allowlist:
// "not-allowed-in-<name>".
func (e *Environment) RefusalCode() string { return "not-allowed-in-" + e.Name }

// Warnings returns advice the CLI prints before acting in this environment.
func (e *Environment) Warnings() []string {
	var w []string
	if !e.Production && len(e.Allow) == 0 {
		w = append(w, fmt.Sprintf("environment %s is not production and has no allowlist: every recipient can be mailed; set allow: (or TIDINGS_ALLOW) to restrict it", e.Name))
	}
	if e.Production && e.SMTP.TLS == TLSNone && !isLoopback(e.SMTP.Host) {
		w = append(w, fmt.Sprintf("production environment %s sends to %s without TLS: set smtp.tls to starttls or tls", e.Name, e.SMTP.Addr()))
	}
	return w
}

// RedisOptions returns go-redis options for this environment: a single
// node, a Sentinel master or a Cluster, with password and TLS applied.
func (e *Environment) RedisOptions() (*redis.UniversalOptions, error) {
	o, err := redis.ParseURL(e.Redis.URL)
	if err != nil {
		return nil, fmt.Errorf("parse Redis URL of environment %s: %w", e.Name, err)
	}
	u := &redis.UniversalOptions{
		Addrs:     []string{o.Addr},
		DB:        o.DB,
		Username:  o.Username,
		Password:  o.Password,
		TLSConfig: o.TLSConfig,
	}
	if p := e.Redis.Password.Reveal(); p != "" {
		u.Password = p
	}
	if e.Redis.TLS && u.TLSConfig == nil {
		host, _, _ := net.SplitHostPort(o.Addr)
		u.TLSConfig = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	switch {
	case e.Redis.Sentinel.Master != "":
		u.MasterName = e.Redis.Sentinel.Master
		u.Addrs = append([]string(nil), e.Redis.Sentinel.Addrs...)
		u.SentinelPassword = e.Redis.Sentinel.Password.Reveal()
		if u.TLSConfig != nil {
			u.TLSConfig.ServerName = ""
		}
	case len(e.Redis.Cluster) > 0:
		u.Addrs = append([]string(nil), e.Redis.Cluster...)
		u.IsClusterMode = true
		u.DB = 0
		if u.TLSConfig != nil {
			u.TLSConfig.ServerName = ""
		}
	}
	return u, nil
}
