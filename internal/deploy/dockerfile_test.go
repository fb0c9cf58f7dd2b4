package deploy

import (
	"go/version"
	"regexp"
	"strings"
	"testing"
)

// TestDockerfile reads deploy/Dockerfile as docker would build it for
// docker-compose.yml's worker and console:
//   - its Go image names a release at least go.mod's go line: the official
//     golang images set GOTOOLCHAIN=local, so an older Go refuses to build
//     ("go.mod requires go >= ..."), and a tag of a minor release alone
//     (golang:1.26) is whichever patch the machine pulled last, possibly
//     older than go.mod's;
//   - it builds with CGO_ENABLED=0, as the static final image has no C
//     library;
//   - the final image runs as a user other than root, and the directory
//     compose's TIDINGS_STATE_DIR names is created owned by that user, so
//     the tidings-state volume mounted there is writable (docker fills a
//     new named volume from the image's directory, its owner included).
//
// Red team 40f found golang:1.26 against go.mod's go 1.26.8.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	df := string(read(t, "deploy/Dockerfile"))
	goLine := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(string(read(t, "go.mod")))
	if goLine == nil {
		t.Fatal("go.mod has no go line")
	}
	want := goLine[1]
	froms := regexp.MustCompile(`(?m)^FROM\s+(\S+)`).FindAllStringSubmatch(df, -1)
	if len(froms) < 2 {
		t.Fatalf("deploy/Dockerfile: want a build stage and a final stage, found FROM %v", froms)
	}
	build, final := froms[0][1], froms[len(froms)-1][1]
	tag, ok := strings.CutPrefix(build, "golang:")
	if !ok {
		t.Fatalf("deploy/Dockerfile: the build stage is FROM %s, want golang:VERSION", build)
	}
	release, _, _ := strings.Cut(tag, "-") // golang:1.26.8-bookworm
	if strings.Count(release, ".") < 2 || version.Compare("go"+release, "go"+want) < 0 {
		t.Errorf("deploy/Dockerfile: FROM %s; go.mod says go %s: name that release or a later one (golang:%s), as the image's Go refuses an older toolchain (GOTOOLCHAIN=local) and %q may be an older patch", build, want, want, build)
	}
	if !regexp.MustCompile(`(?m)^RUN .*CGO_ENABLED=0 go build `).MatchString(df) {
		t.Errorf("deploy/Dockerfile: no RUN CGO_ENABLED=0 go build: the final image %s has no C library", final)
	}
	users := regexp.MustCompile(`(?m)^USER\s+(\S+)`).FindAllStringSubmatch(df, -1)
	nonroot := strings.HasSuffix(final, ":nonroot") && len(users) == 0 ||
		len(users) > 0 && users[len(users)-1][1] != "root" && users[len(users)-1][1] != "0"
	if !nonroot {
		t.Errorf("deploy/Dockerfile: the final image %s runs as root (USER %v)", final, users)
	}
	c := readCompose(t)
	state := c.Services["worker"].Environment["TIDINGS_STATE_DIR"]
	if state == "" {
		t.Fatal("docker-compose.yml: the worker sets no TIDINGS_STATE_DIR")
	}
	if !regexp.MustCompile(`(?m)^COPY --from=\S+ --chown=65532:65532 \S+ ` + regexp.QuoteMeta(state) + `$`).MatchString(df) {
		t.Errorf("deploy/Dockerfile: %s (the worker's TIDINGS_STATE_DIR) is not created owned by the image's user 65532: the tidings-state volume would be root's, and the worker could not write its journal", state)
	}
}
