package deploy

import (
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"

	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/environment"
)

// readCompose decodes docker-compose.yml.
func readCompose(t *testing.T) compose {
	t.Helper()
	var c compose
	if err := yaml.Unmarshal(read(t, "docker-compose.yml"), &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return c
}

// TestComposeVariablesAreKnown: every TIDINGS_ variable a service of
// docker-compose.yml sets is one tidings reads (the settings' variables,
// and TIDINGS_CONFIG), so a variable renamed in the code, or misspelt in
// the compose file, fails here instead of being ignored in a container.
func TestComposeVariablesAreKnown(t *testing.T) {
	t.Parallel()
	c := readCompose(t)
	n := 0
	for _, name := range keys(c.Services) {
		var environ []string
		for k := range c.Services[name].Environment {
			if strings.HasPrefix(k, "TIDINGS_") {
				environ = append(environ, k+"=x")
			}
		}
		n += len(environ)
		for _, u := range environment.UnknownVariables(environ, "TIDINGS_CONFIG") {
			t.Errorf("docker-compose.yml, service %s: %s is no variable tidings reads (closest: %q)", name, u.Name, u.Closest)
		}
	}
	if n == 0 {
		t.Fatal("docker-compose.yml sets no TIDINGS_ variable")
	}
}

// walkthroughs are the two command lists a user follows to start the
// compose set-up: the compose file's header comment and the README's
// "Running for real: docker compose" block.
func walkthroughs(t *testing.T) map[string][]string {
	t.Helper()
	var header []string
	for _, l := range strings.Split(string(read(t, "docker-compose.yml")), "\n") {
		cmd, ok := strings.CutPrefix(l, "#   ")
		if !ok {
			if len(header) > 0 {
				break
			}
			continue
		}
		header = append(header, strings.TrimSpace(cmd))
	}
	_, section, ok := strings.Cut(string(read(t, "README.md")), "\n## Running for real: docker compose\n")
	if !ok {
		t.Fatal("README.md has no section Running for real: docker compose")
	}
	_, block, _ := strings.Cut(section, "```sh\n")
	block, _, _ = strings.Cut(block, "```")
	readme := strings.Split(strings.TrimSpace(block), "\n")
	return map[string][]string{"docker-compose.yml's header comment": header, "README.md's docker compose block": readme}
}

var exportLine = regexp.MustCompile(`^export (TIDINGS_[A-Z_]+)=`)

// TestWalkthroughsGiveTheConsoleItsTokens: the console of the compose file
// refuses to start without a token ("nobody could sign in", exit 2, and
// compose restarts it for ever), and its variables come from the shell
// that runs `docker compose up`. So each walk-through exports a console
// token before that command, and the export, run by a shell, gives a value
// the console accepts (NAME TOKEN). Red team 40f found the compose file's
// header, which says to sign in with TIDINGS_CONSOLE_OPERATOR_TOKEN, never
// set it.
func TestWalkthroughsGiveTheConsoleItsTokens(t *testing.T) {
	t.Parallel()
	for where, lines := range walkthroughs(t) {
		up := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "docker compose up") })
		if up < 0 {
			t.Errorf("%s: no docker compose up in %q", where, lines)
			continue
		}
		tokens := 0
		for _, l := range lines[:up] {
			m := exportLine.FindStringSubmatch(l)
			if m == nil || (m[1] != "TIDINGS_CONSOLE_OPERATOR_TOKEN" && m[1] != "TIDINGS_CONSOLE_VIEWER_TOKEN") {
				continue
			}
			tokens++
			cmd, _, _ := strings.Cut(l, " #")
			sh := exec.CommandContext(t.Context(), "bash", "-c", cmd+`; printf %s "$`+m[1]+`"`)
			sh.Env = []string{"USER=alice", "PATH=/usr/bin:/bin"}
			out, err := sh.Output()
			if err != nil {
				t.Errorf("%s: %s: %v", where, cmd, err)
				continue
			}
			users, err := console.ParseTokens(string(out), m[1], console.RoleViewer)
			if err != nil || len(users) != 1 || users[0].Name == "viewer" {
				t.Errorf("%s: %s gives %d users (%v); want one NAME TOKEN line", where, cmd, len(users), err)
			}
		}
		if tokens == 0 {
			t.Errorf("%s: no console token is exported before %q: the console refuses to start without one", where, lines[up])
		}
	}
}

// TestComposeStateDirIsTheWorkersVolume: every service of
// docker-compose.yml that sets TIDINGS_STATE_DIR mounts there the same
// named volume as the worker, where the workers' delivery journals are.
// The console reads that directory to tell on-call that Redis lost a
// campaign whose deliveries the journal holds ("Redis has no trace of 1
// campaign(s) ... whose deliveries this host's delivery journal ...
// holds"); red team 40f found the compose console's TIDINGS_STATE_DIR an
// empty directory of its own container, so after Redis lost a campaign
// its page said nothing, while a console given the worker's directory
// said it.
func TestComposeStateDirIsTheWorkersVolume(t *testing.T) {
	t.Parallel()
	c := readCompose(t)
	volumeAt := func(service, dir string) string {
		for _, v := range c.Services[service].Volumes {
			parts := strings.Split(v, ":")
			if len(parts) >= 2 && parts[1] == dir {
				if _, named := c.Volumes[parts[0]]; named {
					return parts[0]
				}
			}
		}
		return ""
	}
	dir := c.Services["worker"].Environment["TIDINGS_STATE_DIR"]
	journals := volumeAt("worker", dir)
	if dir == "" || journals == "" {
		t.Fatalf("docker-compose.yml: the worker's TIDINGS_STATE_DIR %q is not on a named volume (volumes %v)", dir, c.Services["worker"].Volumes)
	}
	for _, name := range keys(c.Services) {
		d, ok := c.Services[name].Environment["TIDINGS_STATE_DIR"]
		if !ok || name == "worker" {
			continue
		}
		if d != dir || volumeAt(name, d) != journals {
			t.Errorf("docker-compose.yml, service %s: TIDINGS_STATE_DIR %q is not the volume %s mounted at %s, where the workers' journals are (volumes %v)", name, d, journals, dir, c.Services[name].Volumes)
		}
	}
}

var scaleArg = regexp.MustCompile(`--scale (\w+)=(\d+)`)

// TestScaledServicesPublishNoFixedHostPort: a service the walk-throughs
// scale (docker compose up -d --scale worker=3) publishes no fixed host
// port: the second container cannot bind the port the first holds
// ("Bind for 127.0.0.1:9090 failed: port is already allocated"), and
// neither it nor the third starts. Red team 40f found the worker's
// "127.0.0.1:9090:9090" with the README's --scale worker=3.
func TestScaledServicesPublishNoFixedHostPort(t *testing.T) {
	t.Parallel()
	c := readCompose(t)
	scaled := 0
	for where, lines := range walkthroughs(t) {
		for _, l := range lines {
			for _, m := range scaleArg.FindAllStringSubmatch(l, -1) {
				svc, ok := c.Services[m[1]]
				if !ok {
					t.Errorf("%s: %q scales %s, which docker-compose.yml has not", where, l, m[1])
					continue
				}
				scaled++
				for _, p := range svc.Ports {
					// [IP:][HOST:]CONTAINER: a host port is the part
					// before the container's, when it is not empty.
					parts := strings.Split(p, ":")
					if len(parts) >= 2 && parts[len(parts)-2] != "" {
						t.Errorf("%s: %q scales %s, which publishes the fixed host port of %q: every container past the first fails to start; leave the host port empty (127.0.0.1::%s)", where, l, m[1], p, parts[len(parts)-1])
					}
				}
			}
		}
	}
	if scaled == 0 {
		t.Fatal("no walk-through scales a service: the README's docker compose up -d --scale worker=3 is gone?")
	}
}
