package environment

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tidings-mail/tidings/internal/userfile"
	"github.com/tidings-mail/tidings/internal/yamlnode"
)

// configFile is the config file's format. Keys that would hold a secret
// are yamlnode.Position: they are refused with their line and their value
// is never read.
type configFile struct {
	Environments map[string]*fileEnv `yaml:"environments"`
}

type fileEnv struct {
	Production      *bool     `yaml:"production"`
	Redis           fileRedis `yaml:"redis"`
	SMTP            fileSMTP  `yaml:"smtp"`
	Allow           []string  `yaml:"allow"`
	ListUnsubscribe string    `yaml:"list_unsubscribe"`
	Suppression     []string  `yaml:"suppression_files"`
	// UnsubscribeSecret is refused (a secret); the file is read.
	UnsubscribeSecret     yamlnode.Position `yaml:"unsubscribe_secret"`
	UnsubscribeSecretFile string            `yaml:"unsubscribe_secret_file"`
	Concurrency           int               `yaml:"concurrency"`
	ClaimWindow           int               `yaml:"claim_window"`
	StateDir              string            `yaml:"state_dir"`
	Journal               fileJournal       `yaml:"journal"`
	Console               fileConsole       `yaml:"console"`
	Notify                fileNotify        `yaml:"notify"`
}

type fileRedis struct {
	URL               string            `yaml:"url"`
	Password          yamlnode.Position `yaml:"password"`
	PasswordFile      string            `yaml:"password_file"`
	TLS               bool              `yaml:"tls"`
	TLSCAFile         string            `yaml:"tls_ca_file"`
	TLSCertFile       string            `yaml:"tls_cert_file"`
	TLSKeyFile        string            `yaml:"tls_key_file"`
	TLSServerName     string            `yaml:"tls_server_name"`
	Sentinel          fileSentinel      `yaml:"sentinel"`
	Cluster           []string          `yaml:"cluster"`
	MinReplicaAcks    string            `yaml:"min_replica_acks"`
	ReplicaAckTimeout time.Duration     `yaml:"replica_ack_timeout"`
	MaxmemoryPolicy   string            `yaml:"maxmemory_policy"`
}

type fileSentinel struct {
	Master       string            `yaml:"master"`
	Addrs        []string          `yaml:"addrs"`
	Password     yamlnode.Position `yaml:"password"`
	PasswordFile string            `yaml:"password_file"`
}

type fileSMTP struct {
	Host         string            `yaml:"host"`
	Port         int               `yaml:"port"`
	TLS          string            `yaml:"tls"`
	Username     string            `yaml:"username"`
	Password     yamlnode.Position `yaml:"password"`
	PasswordFile string            `yaml:"password_file"`
	Connections  int               `yaml:"connections"`
	HELO         string            `yaml:"helo"`
	Timeout      time.Duration     `yaml:"timeout"`
}

type fileJournal struct {
	Dir   string `yaml:"dir"`
	Fsync string `yaml:"fsync"`
}

type fileConsole struct {
	Addr              string            `yaml:"addr"`
	URL               string            `yaml:"url"`
	ViewerToken       yamlnode.Position `yaml:"viewer_token"`
	ViewerTokenFile   string            `yaml:"viewer_token_file"`
	OperatorToken     yamlnode.Position `yaml:"operator_token"`
	OperatorTokenFile string            `yaml:"operator_token_file"`
}

type fileNotify struct {
	SlackWebhookURL     yamlnode.Position `yaml:"slack_webhook_url"`
	SlackWebhookURLFile string            `yaml:"slack_webhook_url_file"`
	WebhookURL          yamlnode.Position `yaml:"webhook_url"`
	WebhookURLFile      string            `yaml:"webhook_url_file"`
	NoProgressAfter     time.Duration     `yaml:"no_progress_after"`
}

// parseFile parses and decodes the config file.
func parseFile(data []byte, fileName string) (*yamlnode.Document, *configFile, error) {
	doc, err := yamlnode.Parse(data, fileName)
	if err != nil {
		return nil, nil, err
	}
	var f configFile
	if err := doc.Decode(&f); err != nil {
		return nil, nil, err
	}
	return doc, &f, nil
}

// builder builds one environment and collects its problems, each located
// at the key's line in the config file or at the variable that set it.
type builder struct {
	name    string
	getenv  func(string) string
	doc     *yamlnode.Document // nil without a config file
	file    string
	baseDir string            // config-file paths are relative to it
	fromVar map[string]string // key -> the variable that set it
	errs    []error
}

// path returns a key's path in the config file.
func (b *builder) path(key string) []string {
	return append([]string{"environments", b.name}, strings.Split(key, ".")...)
}

// report records a problem with the setting at key.
func (b *builder) report(key, format string, args ...any) {
	e := b.at(key)
	e.Msg = fmt.Sprintf(format, args...)
	b.errs = append(b.errs, &e)
}

// at says where setting key was set: the variable or flag that set it, else
// its key in the config file (with the file and line when written there).
func (b *builder) at(key string) yamlnode.Error {
	if v, ok := b.fromVar[key]; ok {
		return yamlnode.Error{Field: v}
	}
	path := b.path(key)
	e := yamlnode.Error{Field: strings.Join(path, ".")}
	if b.doc != nil && b.doc.Has(path...) {
		e.File, e.Line = b.file, b.doc.Line(path...)
	}
	return e
}

// literalSecrets refuses secrets written into the config file.
func (b *builder) literalSecrets(r *fileEnv) error {
	var errs []error
	for _, s := range []struct {
		at       yamlnode.Position
		key      string
		instead  string
		variable string
	}{
		{r.Redis.Password, "redis.password", "redis.password_file", "TIDINGS_REDIS_PASSWORD"},
		{r.Redis.Sentinel.Password, "redis.sentinel.password", "redis.sentinel.password_file", "TIDINGS_REDIS_SENTINEL_PASSWORD"},
		{r.SMTP.Password, "smtp.password", "smtp.password_file", "TIDINGS_SMTP_PASSWORD"},
		{r.Console.ViewerToken, "console.viewer_token", "console.viewer_token_file", "TIDINGS_CONSOLE_VIEWER_TOKEN"},
		{r.Console.OperatorToken, "console.operator_token", "console.operator_token_file", "TIDINGS_CONSOLE_OPERATOR_TOKEN"},
		{r.Notify.SlackWebhookURL, "notify.slack_webhook_url", "notify.slack_webhook_url_file", "TIDINGS_NOTIFY_SLACK_WEBHOOK_URL"},
		{r.Notify.WebhookURL, "notify.webhook_url", "notify.webhook_url_file", "TIDINGS_NOTIFY_WEBHOOK_URL"},
		{r.UnsubscribeSecret, "unsubscribe_secret", "unsubscribe_secret_file", "TIDINGS_UNSUBSCRIBE_SECRET"},
	} {
		if s.at.Written() {
			errs = append(errs, &yamlnode.Error{File: b.file, Line: s.at.Line, Field: strings.Join(b.path(s.key), "."),
				Msg: fmt.Sprintf("secrets are not read from the config file: remove it and use %s or %s", s.instead, s.variable)})
		}
	}
	if u, err := url.Parse(r.Redis.URL); err == nil && u.User != nil {
		if pw, _ := u.User.Password(); pw != "" { // redis://:@host is no password
			path := b.path("redis.url")
			errs = append(errs, &yamlnode.Error{File: b.file, Line: b.doc.Line(path...), Field: strings.Join(path, "."),
				Msg: "holds a password: remove it from the URL and use redis.password_file or TIDINGS_REDIS_PASSWORD"})
		}
	}
	// A seed node or a Sentinel written as a URL with a password
	// (redis://:PASSWORD@host:port, redis.url's form) is a secret in the
	// file too; validate refuses any entry that is not host:port.
	for _, l := range []struct {
		key, instead, variable string
		addrs                  []string
	}{
		{"redis.cluster", "redis.password_file", "TIDINGS_REDIS_PASSWORD", r.Redis.Cluster},
		{"redis.sentinel.addrs", "redis.sentinel.password_file", "TIDINGS_REDIS_SENTINEL_PASSWORD", r.Redis.Sentinel.Addrs},
	} {
		for i, a := range l.addrs {
			if strings.Contains(a, "@") {
				path := b.path(l.key)
				errs = append(errs, &yamlnode.Error{File: b.file, Line: b.doc.Line(path...), Field: strings.Join(path, "."),
					Msg: fmt.Sprintf("entry %d holds a user or password (not shown): write host:port alone, e.g. 10.0.0.1:6379, and give the password with %s or %s", i+1, l.instead, l.variable)})
			}
		}
	}
	return errors.Join(errs...)
}

// fromFile converts the file's settings; secrets are read from the files
// they name.
func (b *builder) fromFile(r *fileEnv) *Environment {
	e := &Environment{
		Name:            b.name,
		Production:      b.name == ProductionName,
		Allow:           r.Allow,
		ListUnsubscribe: r.ListUnsubscribe,
		Concurrency:     r.Concurrency,
		ClaimWindow:     r.ClaimWindow,
		Redis: Redis{
			URL: r.Redis.URL,
			TLS: r.Redis.TLS,
			TLSFiles: RedisTLS{CAFile: b.filePath(r.Redis.TLSCAFile), CertFile: b.filePath(r.Redis.TLSCertFile),
				KeyFile: b.filePath(r.Redis.TLSKeyFile), ServerName: r.Redis.TLSServerName},
			Sentinel:          Sentinel{Master: r.Redis.Sentinel.Master, Addrs: r.Redis.Sentinel.Addrs},
			Cluster:           r.Redis.Cluster,
			MinReplicaAcks:    ReplicaAcksAuto,
			ReplicaAckTimeout: r.Redis.ReplicaAckTimeout,
			MaxmemoryPolicy:   r.Redis.MaxmemoryPolicy,
		},
		SMTP: SMTP{
			Host:        r.SMTP.Host,
			Port:        r.SMTP.Port,
			TLS:         TLSPolicy(strings.ToLower(r.SMTP.TLS)),
			Username:    r.SMTP.Username,
			Connections: r.SMTP.Connections,
			HELO:        r.SMTP.HELO,
			Timeout:     r.SMTP.Timeout,
		},
		StateDir: b.filePath(r.StateDir),
		// Relative to the config file, as every path in it.
		SuppressionFiles: mapPaths(r.Suppression, b.filePath),
		Journal:          Journal{Dir: b.filePath(r.Journal.Dir)},
		Console:          Console{Addr: r.Console.Addr, URL: r.Console.URL},
		Notify:           Notify{NoProgressAfter: r.Notify.NoProgressAfter},
	}
	if r.Production != nil {
		if !*r.Production && b.name == ProductionName {
			b.report("production", "false: the environment named production is always production; remove the key")
		}
		e.Production = e.Production || *r.Production
	}
	if r.Redis.MinReplicaAcks != "" {
		if err := setReplicaAcks(e, r.Redis.MinReplicaAcks); err != nil {
			b.report("redis.min_replica_acks", "%s", err.Error())
		}
	}
	if r.Journal.Fsync != "" {
		if err := setFsync(e, r.Journal.Fsync); err != nil {
			b.report("journal.fsync", "%s", err.Error())
		}
	}
	for _, s := range []struct {
		key, path string
		dst       *Secret
	}{
		{"redis.password_file", r.Redis.PasswordFile, &e.Redis.Password},
		{"redis.sentinel.password_file", r.Redis.Sentinel.PasswordFile, &e.Redis.Sentinel.Password},
		{"smtp.password_file", r.SMTP.PasswordFile, &e.SMTP.Password},
		{"console.viewer_token_file", r.Console.ViewerTokenFile, &e.Console.ViewerToken},
		{"console.operator_token_file", r.Console.OperatorTokenFile, &e.Console.OperatorToken},
		{"notify.slack_webhook_url_file", r.Notify.SlackWebhookURLFile, &e.Notify.SlackWebhookURL},
		{"notify.webhook_url_file", r.Notify.WebhookURLFile, &e.Notify.WebhookURL},
		{"unsubscribe_secret_file", r.UnsubscribeSecretFile, &e.UnsubscribeSecret},
	} {
		if s.path == "" {
			continue
		}
		v, err := readSecret(b.filePath(s.path))
		if err != nil {
			path := b.path(s.key)
			b.errs = append(b.errs, &yamlnode.Error{File: b.file, Line: b.doc.Line(path...), Field: strings.Join(path, "."),
				Msg: "cannot read the secret file", Err: err})
			continue
		}
		*s.dst = v
	}
	return e
}

// mapPaths returns f of each of ps.
func mapPaths(ps []string, f func(string) string) []string {
	var out []string
	for _, p := range ps {
		out = append(out, f(p))
	}
	return out
}

// filePath resolves a path written in the config file against its directory.
func (b *builder) filePath(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(b.baseDir, p)
}

// variables applies the TIDINGS_* variables over the file's settings.
func (b *builder) variables(e *Environment) {
	for _, s := range settings {
		if s.variable == "" || s.set == nil {
			continue
		}
		v := b.getenv(s.variable)
		if !s.secret {
			v = strings.TrimSpace(v)
		}
		if v == "" {
			continue
		}
		if err := s.set(e, v); err != nil {
			b.errs = append(b.errs, &yamlnode.Error{Field: s.variable, Err: err})
			continue
		}
		if s.key != "" {
			b.fromVar[s.key] = s.variable
		}
	}
}

// resolve settles what depends on several settings: a password inside the
// Redis URL (TIDINGS_REDIS_URL's: the file's may hold none) becomes the
// secret, over the file's redis.password_file (so the URL can be printed), rediss:// means
// TLS, allowlist entries are lower-cased, and the state directory defaults
// to $XDG_STATE_HOME/tidings/<env>, else $HOME/.local/state/tidings/<env>.
func (b *builder) resolve(e *Environment) {
	if u, err := url.Parse(e.Redis.URL); err == nil && e.Redis.URL != "" {
		if u.User != nil {
			// An empty password (redis://:@host) is none: the URL gives
			// no password and contradicts no other.
			if pw, _ := u.User.Password(); pw != "" {
				// The file refuses a password in redis.url: this one is
				// TIDINGS_REDIS_URL's, and a variable overrides the file's
				// redis.password_file. Two variables giving two passwords
				// leave one of them wrong: refused, not chosen between.
				if v, ok := b.fromVar["redis.password_file"]; ok && e.Redis.Password.Reveal() != pw {
					b.errs = append(b.errs, &yamlnode.Error{Field: "TIDINGS_REDIS_URL",
						Msg: fmt.Sprintf("holds a password and %s gives another (neither is shown): keep one of them", v)})
				}
				e.Redis.Password = Secret(pw)
			}
			if user := u.User.Username(); user != "" {
				u.User = url.User(user)
			} else {
				u.User = nil
			}
			e.Redis.URL = u.String()
		}
		if u.Scheme == "rediss" {
			e.Redis.TLS = true
		}
	}
	for i, a := range e.Allow {
		e.Allow[i], _ = allowKey(a) // validate reports a wrong entry
	}
	if e.StateDir != "" {
		return
	}
	base := ""
	if xdg := b.getenv("XDG_STATE_HOME"); filepath.IsAbs(xdg) {
		base = xdg
	} else if home := b.getenv("HOME"); home != "" {
		base = filepath.Join(home, ".local", "state")
	}
	if base == "" {
		return
	}
	e.StateDir = filepath.Join(base, "tidings", b.name)
}

// readSecret reads a secret file, without its final line break. It is
// read once (userfile.ReadOnce): a pipe a shell's <(pass show ...) gives
// is read as a stream, and a named pipe no program writes to is refused
// at once, never waited on.
func readSecret(path string) (Secret, error) {
	data, err := userfile.ReadOnce(path)
	if err != nil {
		return "", fmt.Errorf("read secret file: %w", err)
	}
	return Secret(strings.TrimRight(string(data), "\r\n")), nil
}

// setReplicaAcks parses "auto" or a number of replicas.
func setReplicaAcks(e *Environment, s string) error {
	if strings.EqualFold(s, "auto") {
		e.Redis.MinReplicaAcks = ReplicaAcksAuto
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return fmt.Errorf("%q is neither auto nor a number of replicas (0 or more)", s)
	}
	e.Redis.MinReplicaAcks = n
	return nil
}

// setFsync parses "always" or a duration above 0.
func setFsync(e *Environment, s string) error {
	if strings.EqualFold(s, "always") {
		e.Journal.FsyncAlways, e.Journal.FsyncInterval = true, 0
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return fmt.Errorf("%q is neither always nor a duration above 0 such as 200ms", s)
	}
	e.Journal.FsyncAlways, e.Journal.FsyncInterval = false, d
	return nil
}
