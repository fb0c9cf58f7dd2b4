package journal_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/tidings-mail/tidings/internal/journal"
)

// TestFilesRefusesWhatItCannotRead: a directory or a journal file in the
// journal directory, beside the campaign's directory, or in the campaign's
// directory, that cannot be read may hold the campaign's deliveries
// (another host's, copied in): Files refuses it, naming it, saying it
// could not be read, what to do (make it readable, or move it out) and
// why tidings refuses. A directory came out as the walk's bare "open ...:
// permission denied", and a journal file that could not be opened was
// passed over in silence (read as another campaign's).
//
// Root reads anything, so as root (CI runs as root) each mode-000 case
// runs in a copy of this test binary started as user nobody (asNobody); a
// directory too deep to open (its path longer than PATH_MAX) and a journal
// file that is a dangling symbolic link fail to be read as root too.
func TestFilesRefusesWhatItCannotRead(t *testing.T) {
	t.Parallel()
	const c = "rt18"
	line := `{"campaign":"` + c + `","run":"r1","worker":"hostA","id":"a","email":"a@x.example","outcome":"sent"}` + "\n"
	tests := []struct {
		name     string
		needUser bool                                   // mode 000: not as root
		make     func(t *testing.T, root string) string // makes it, returns the path the error names
		out      string                                 // what it says to move it out of ("" the journal directory)
	}{
		{"a directory beside the campaign's, mode 000", true, func(t *testing.T, root string) string {
			p := filepath.Join(root, c+"-hostB")
			mkdir(t, p, 0o000)
			return p
		}, ""},
		{"a directory inside the campaign's, mode 000", true, func(t *testing.T, root string) string {
			p := filepath.Join(root, c, "hostB")
			mkdir(t, p, 0o000)
			return p
		}, c},
		{"a journal file beside the campaign's directory, mode 000", true, func(t *testing.T, root string) string {
			mkdir(t, filepath.Join(root, "hostB"), 0o755)
			p := filepath.Join(root, "hostB", "r1.hostB.jsonl")
			if err := os.WriteFile(p, []byte(line), 0o000); err != nil {
				t.Fatal(err)
			}
			return p
		}, ""},
		{"a journal file beside that is a dangling link", false, func(t *testing.T, root string) string {
			mkdir(t, filepath.Join(root, "hostB"), 0o755)
			p := filepath.Join(root, "hostB", "r1.hostB.jsonl")
			if err := os.Symlink(filepath.Join(root, "unmounted", "r1.hostB.jsonl"), p); err != nil {
				t.Fatal(err)
			}
			return p
		}, ""},
		{"a journal file in the campaign's directory that is a dangling link", false, func(t *testing.T, root string) string {
			p := filepath.Join(root, c, "r1.hostB.jsonl")
			if err := os.Symlink(filepath.Join(root, "unmounted", "r1.hostB.jsonl"), p); err != nil {
				t.Fatal(err)
			}
			return p
		}, c},
		{"a journal file in the campaign's directory that is a symbolic link loop", false, func(t *testing.T, root string) string {
			p := filepath.Join(root, c, "r1.hostB.jsonl")
			if err := os.Symlink("r1.hostB.jsonl", p); err != nil {
				t.Fatal(err)
			}
			return p
		}, c},
		{"a directory beside too deep to open", false, func(t *testing.T, root string) string {
			p := filepath.Join(root, "deep")
			mkdir(t, p, 0o755)
			deepen(t, p, 4200)
			return p
		}, ""},
	}
	var bin string // the copy of this test binary asNobody runs
	if os.Geteuid() == 0 {
		bin = nobodysCopy(t) // before any subtest starts a process
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.needUser && bin != "" {
				asNobody(t, bin)
				return
			}
			root := t.TempDir()
			mkdir(t, filepath.Join(root, c), 0o755)
			if err := os.WriteFile(filepath.Join(root, c, "r1.hostA.jsonl"), []byte(line), 0o644); err != nil {
				t.Fatal(err)
			}
			at := tt.make(t, root)
			out := filepath.Join(root, tt.out)
			_, err := journal.Files(root, c)
			if err == nil {
				t.Fatalf("Files(%s): no error, want %s refused", root, at)
			}
			for _, want := range []string{at, "could not be read", "make it readable by this user, or move it out of " + filepath.Clean(out), "tidings refuses rather than risk missing the deliveries"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Files(%s): %v\nwant it to say %q", root, err, want)
				}
			}
			if tt.needUser && !errors.Is(err, fs.ErrPermission) {
				t.Errorf("Files(%s): %v does not wrap fs.ErrPermission", root, err)
			}
		})
	}
}

// mkdir makes directory p (and its parents) with mode perm, restored to
// 0755 when the test ends so that it can be removed.
func mkdir(t *testing.T, p string, perm os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, perm); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(p, 0o755) })
}

// deepen nests directories in dir until their path is longer than n
// bytes, beyond what a path may name (PATH_MAX is 4096 on Linux): made
// through os.Root, one level at a time.
func deepen(t *testing.T, dir string, n int) {
	t.Helper()
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.Repeat("d", 200)
	for l := len(dir); l <= n; l += len(name) + 1 {
		if err := r.Mkdir(name, 0o755); err != nil {
			t.Fatal(err)
		}
		next, err := r.OpenRoot(name)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		r = next
	}
	r.Close()
}

// nobodysCopy copies this test binary into a directory of t's that user
// nobody may enter, and returns its path. It is made before any subtest
// runs: a file still open for writing in this process while another
// goroutine starts a process is inherited by it, and executing the file
// then fails ("text file busy").
func nobodysCopy(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} { // t.TempDir's are 0700
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, filepath.Base(exe))
	copyFile(t, exe, bin)
	return bin
}

// asNobody runs the test t (a subtest) again in bin, a copy of this test
// binary (nobodysCopy), started as user nobody (65534), to whom a mode-000
// directory or file is unreadable as it would be to a worker's user, and
// fails t with the child's output unless the child ran it and it passed.
func asNobody(t *testing.T, bin string) {
	t.Helper()
	parts := strings.Split(t.Name(), "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	cmd := exec.CommandContext(t.Context(), bin, "-test.v", "-test.count=1", "-test.run", strings.Join(parts, "/"))
	cmd.Dir = filepath.Dir(bin)
	cmd.Env = append(os.Environ(), "TMPDIR="+os.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()+" ") {
		t.Fatalf("%s as user nobody: %v\n%s", t.Name(), err, out)
	}
}

// copyFile copies file from to a new file to, executable by anyone.
func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}
