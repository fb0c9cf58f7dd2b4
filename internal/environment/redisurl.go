package environment

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// redisURLExample is a valid Redis URL and its other forms, for messages.
const redisURLExample = "redis://10.0.0.1:6379/0 (rediss:// for TLS, unix:///run/redis/redis.sock for a socket)"

// redisURLProblem says what is wrong with a Redis URL ("" when nothing is),
// with what to write instead. It never quotes a password: a URL that
// cannot be parsed and may hold one (it has an @) is not shown at all,
// one that can is shown redacted. needHost: the URL's address is the one
// dialled (neither Sentinel nor Cluster, which take only its database,
// user and TLS).
func redisURLProblem(raw string, needHost bool) string {
	shown := fmt.Sprintf("%q", raw)
	if strings.Contains(raw, "@") {
		shown = "the URL (not shown: it may hold a password)"
	}
	if !strings.Contains(raw, "://") {
		return fmt.Sprintf("%s has no scheme: write redis://HOST:PORT/DB, e.g. %s", shown, redisURLExample)
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if !strings.Contains(raw, "@") && errors.As(err, &ue) {
			shown += " (" + ue.Err.Error() + ")"
		}
		return fmt.Sprintf("%s cannot be parsed: write redis://HOST:PORT/DB, e.g. %s", shown, redisURLExample)
	}
	shown = fmt.Sprintf("%q", u.Redacted())
	switch u.Scheme {
	case "redis", "rediss":
		if u.Hostname() == "" && needHost {
			return fmt.Sprintf("%s has no host (go-redis would dial localhost): write redis://HOST:PORT/DB, e.g. %s", shown, redisURLExample)
		}
		if f := strings.FieldsFunc(u.Path, func(r rune) bool { return r == '/' }); len(f) > 1 {
			return fmt.Sprintf("%s: its path %q is not one database number: end the URL with /DB, e.g. %s", shown, u.Path, redisURLExample)
		} else if len(f) == 1 {
			if n, err := strconv.Atoi(f[0]); err != nil || n < 0 {
				return fmt.Sprintf("%s: the database %q is not a number: end the URL with /DB, 0 to 15 on a default Redis, e.g. %s", shown, f[0], redisURLExample)
			}
		}
	case "unix":
		if strings.TrimSpace(u.Path) == "" {
			return fmt.Sprintf("%s names no socket: write unix:///PATH, e.g. unix:///run/redis/redis.sock, or a TCP URL such as redis://10.0.0.1:6379/0", shown)
		}
	default:
		return fmt.Sprintf("%s: the scheme %q is not one tidings reads: use redis://, rediss:// (TLS) or unix://, e.g. %s", shown, u.Scheme, redisURLExample)
	}
	// What go-redis refuses besides (an unknown ?option, a bad value):
	// its errors quote the option, never the user part.
	if _, err := redis.ParseURL(raw); err != nil {
		return fmt.Sprintf("%s: %s: fix it, e.g. %s", shown, err.Error(), redisURLExample)
	}
	return ""
}
