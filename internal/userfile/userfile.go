// Package userfile opens the files a person names (a rejects file, a report
// to write, a file of tokens) and, when that fails, says what is wrong with
// the path as given (a directory that does not exist, a file that cannot be
// written or does not exist, a full disk) and what to do, instead of the
// operating system's words about it (or about a temporary file beside it).
// It names no flag: the command line says which flag gave the path.
package userfile

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Problem is what is wrong with a path.
type Problem int

// The problems Explain tells apart.
const (
	// Other is a failure none of the others describes (the operating
	// system's error says it).
	Other Problem = iota
	// NoDir: the directory to write the file in does not exist.
	NoDir
	// NotWritable: the file, or the directory to write it in, cannot be
	// written (permissions, a read-only file system).
	NotWritable
	// IsDir: the path names a directory, not a file.
	IsDir
	// Missing: the file to read does not exist.
	Missing
	// NotReadable: the file to read cannot be read (permissions).
	NotReadable
	// NoSpace: the disk (or quota) is full: the path is right, the
	// machine cannot hold the file now.
	NoSpace
	// KernelFile: the path is on a file system of the kernel's (/proc,
	// /sys), named by FS: its files are not files to write output to.
	KernelFile
	// NotDir: the path is a file where a directory is wanted.
	NotDir
	// OtherKind: the file exists and holds something else than what was
	// to be written over it (Replaceable): its first line is First.
	OtherKind
	// NotRegular: the file to read is a named pipe, a socket or a device
	// (Kind says which), not a file on disk: a pipe would be waited on
	// for ever when nothing writes to it, a device like /dev/zero never
	// ends, and a command may read a file more than once.
	NotRegular
	// NoReader: the file to write is a named pipe that no program reads:
	// writing to it would wait for ever.
	NoReader
	// NoWriter: the file read once (ReadOnce) is a pipe that gave nothing:
	// no program wrote to it.
	NoWriter
)

// Error says what is wrong with Path, a path as the person gave it.
type Error struct {
	Path    string
	Problem Problem
	Err     error  // the operating system's
	FS      string // the file system of a KernelFile
	// Of an OtherKind: what the file should be ("a report"), what a file
	// that may be replaced holds ("a report"), and its first line.
	What, Holds, First string
	Kind               string // of a NotRegular: "a named pipe", "a device", "a socket"
}

// Error says what is wrong with the path and what to do.
func (e *Error) Error() string {
	dir := filepath.Dir(e.Path)
	switch e.Problem {
	case NoDir:
		return fmt.Sprintf("%s: the directory %s does not exist: create it, or give a path in a directory that exists", e.Path, dir)
	case NotWritable:
		return fmt.Sprintf("%s: cannot be written (%s): give a path in a directory you can write to, or fix the permissions of %s", e.Path, reason(e.Err), dir)
	case IsDir:
		return fmt.Sprintf("%s: is a directory: give the path of a file", e.Path)
	case Missing:
		return fmt.Sprintf("%s: the file does not exist: check the path (a relative path starts in the current directory)", e.Path)
	case NotReadable:
		return fmt.Sprintf("%s: cannot be read (%s): fix its permissions, or give a file you can read", e.Path, reason(e.Err))
	case NoSpace:
		return fmt.Sprintf("%s: no space left (%s): free space on that disk, or give a path on another one, then run the command again", e.Path, reason(e.Err))
	case NotDir:
		return fmt.Sprintf("%s: is a file, not a directory: give the path of a directory (one that does not exist is created)", e.Path)
	case KernelFile:
		return fmt.Sprintf("%s: is on the kernel's %s file system, which holds no file a command can write: give a path on a disk, in a directory you can write to", e.Path, e.FS)
	case NotRegular:
		return fmt.Sprintf("%s: is %s, not a file: tidings reads the files it is given from their start (some twice), which %s cannot be (it would wait for a writer, or never end): save what it holds to a file and give the path of that file", e.Path, e.Kind, e.Kind)
	case NoWriter:
		return fmt.Sprintf("%s: is a pipe that gave nothing (no program wrote to it): start the program that writes to it first, or give the path of a file", e.Path)
	case NoReader:
		return fmt.Sprintf("%s: is a named pipe that no program reads: writing to it would wait for ever; nothing was written: start the program that reads it first, or give the path of a file", e.Path)
	case OtherKind:
		return fmt.Sprintf("%s: the file exists and is not %s (its first line is %q): nothing was written to it; give a path that is new or holds %s, or move that file away", e.Path, e.What, e.First, e.Holds)
	}
	return fmt.Sprintf("%s: %s", e.Path, reason(e.Err))
}

// Unwrap returns the operating system's error.
func (e *Error) Unwrap() error { return e.Err }

// Infrastructure reports whether the path is right but the machine cannot
// hold the file now (a full disk): running again later may succeed.
func (e *Error) Infrastructure() bool { return e.Problem == NoSpace }

// reason is the operating system's error without the path it names (the
// temporary file's, say).
func reason(err error) string {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err.Error()
	case errors.As(err, &le):
		return le.Err.Error()
	}
	return err.Error()
}

// Explain returns err, an error of reading (write false) or writing (write
// true) path or a file beside it, as an *Error naming path. nil stays nil.
func Explain(path string, write bool, err error) error {
	if err == nil {
		return nil
	}
	var ue *Error
	if errors.As(err, &ue) {
		return err
	}
	p := Other
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		p = NoSpace
	case errors.Is(err, syscall.EISDIR):
		p = IsDir
	case errors.Is(err, fs.ErrNotExist) && write:
		p = NoDir
	case errors.Is(err, fs.ErrNotExist):
		p = Missing
	case errors.Is(err, syscall.ENOTDIR) && write:
		p = NoDir // a file where a directory should be
	case errors.Is(err, syscall.ENOTDIR):
		p = Missing
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS):
		p = NotWritable
		if !write {
			p = NotReadable
		}
	}
	if p == Other && write {
		if fi, serr := os.Stat(path); serr == nil && fi.IsDir() {
			p = IsDir // renaming a file over a directory
		}
	}
	return &Error{Path: path, Problem: p, Err: err}
}

// Dir makes the directory at path, where a command writes files (a
// preview's gallery), unless it exists: readable by its owner alone
// (0700), as the files written in it are (Perm); one that exists keeps
// its permissions. Errors are *Error: a file there
// (NotDir), a directory of the kernel's (KernelFile), or one that cannot
// be made.
func Dir(path string) error {
	if fs := kernelFS(path); fs != "" {
		return &Error{Path: path, Problem: KernelFile, FS: fs}
	}
	if fi, err := os.Stat(path); err == nil && !fi.IsDir() {
		return &Error{Path: path, Problem: NotDir}
	}
	return Explain(path, true, os.MkdirAll(path, 0o700))
}

// Open opens the file at path to read it: a regular file only. A named
// pipe, a socket or a device is an *Error (NotRegular) and a directory
// one too (IsDir): it is opened without waiting for a writer at the other
// end of a pipe, so that no path a person gives makes a command wait for
// ever. Other errors are *Error as Explain makes them.
func Open(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0) // a pipe opens at once
	if err != nil {
		if fi, serr := os.Stat(path); serr == nil && !fi.Mode().IsRegular() {
			return nil, notRegular(path, fi.Mode()) // a socket (ENXIO)
		}
		return nil, Explain(path, false, err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = notRegular(path, fi.Mode())
	}
	if err != nil {
		f.Close()
		return nil, Explain(path, false, err)
	}
	return f, nil
}

// NotAFile reports whether err is Open's refusal of a path that is not a
// file to read (a named pipe, a device, a socket: NotRegular; a directory:
// IsDir), rather than one that cannot be opened.
func NotAFile(err error) bool {
	var ue *Error
	return errors.As(err, &ue) && (ue.Problem == NotRegular || ue.Problem == IsDir)
}

// Regular returns nil when m, the mode of the file at path (os.Stat's), is
// a regular file's, else the *Error Open returns: for a caller that has
// stat'ed path already.
func Regular(path string, m fs.FileMode) error {
	if m.IsRegular() {
		return nil
	}
	return notRegular(path, m)
}

// notRegular is the *Error of path, whose mode is not a regular file's.
func notRegular(path string, m fs.FileMode) *Error {
	if m.IsDir() {
		return &Error{Path: path, Problem: IsDir}
	}
	kind := "a special file"
	switch {
	case m&fs.ModeNamedPipe != 0:
		kind = "a named pipe"
	case m&fs.ModeDevice != 0:
		kind = "a device"
	case m&fs.ModeSocket != 0:
		kind = "a socket"
	}
	return &Error{Path: path, Problem: NotRegular, Kind: kind}
}

// Read reads the file at path, which Open opens; errors are *Error.
func Read(path string) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	return b, Explain(path, false, err)
}

// ReadOnce reads the file at path for a command that reads it once (a
// token list, the environments file): a regular file as Read reads it,
// or a pipe read as a stream to its end, as a shell's <(pass show ...)
// gives one (/dev/fd/N), so that a secret need not be saved to disk. A
// named pipe is opened without waiting for a writer: one that nothing
// writes to is an *Error (NoWriter), never waited on. A device (/dev/zero never
// ends), a socket or a directory is an *Error as Open makes it; a pipe
// that gives more than MaxOnce bytes is one too.
func ReadOnce(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		return Read(path)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0) // Go's poller waits for the writer's bytes, not for a writer
	if err != nil {
		return nil, Explain(path, false, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxOnce+1))
	if err == nil && len(b) == 0 {
		return nil, &Error{Path: path, Problem: NoWriter}
	}
	if err == nil && len(b) > MaxOnce {
		err = fmt.Errorf("the pipe gave more than %d bytes, more than a file read once holds: give the path of the file itself", MaxOnce)
	}
	return b, Explain(path, false, err)
}

// MaxOnce is the most ReadOnce reads from a pipe.
const MaxOnce = 16 << 20

// OpenStream opens path, a named pipe or a device (/dev/stdout,
// /dev/null), to write to it as it is. A pipe that no program reads is an
// *Error (NoReader) after ReaderWait, not waited on for ever; a socket is
// one too (NotRegular). ctx ending during the wait (Ctrl-C) ends it at
// once: the error wraps ctx's, and is no *Error.
func OpenStream(ctx context.Context, path string) (*os.File, error) {
	if fi, err := os.Stat(path); err == nil && fi.Mode()&fs.ModeSocket != 0 {
		return nil, notRegular(path, fi.Mode())
	}
	for waited := time.Duration(0); ; waited += readerPoll {
		f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0) // a pipe without a reader fails at once (ENXIO)
		switch {
		case !errors.Is(err, syscall.ENXIO):
			return f, Explain(path, true, err)
		case waited >= ReaderWait:
			return nil, &Error{Path: path, Problem: NoReader, Err: err}
		}
		select {
		case <-ctx.Done(): // Ctrl-C: not the pipe's fault, no *Error
			return nil, fmt.Errorf("%s: wait for a program to read the named pipe: %w", path, ctx.Err())
		case <-time.After(readerPoll):
		}
	}
}

// ReaderWait is how long OpenStream waits for a program to open a named
// pipe to read it (one started beside tidings, `cat PIPE &`, may not have
// opened it yet) before it says no program reads it.
const ReaderWait = 5 * time.Second

// readerPoll is how often OpenStream tries a pipe again.
const readerPoll = 50 * time.Millisecond

// Perm is the permissions of a file a command creates at a path a person
// names (a report, a rejects file): they hold recipients' addresses,
// personal data, so only the file's owner may read them. A file written
// over keeps its own permissions.
const Perm fs.FileMode = 0o600

// Create creates (with Perm) or truncates the file at path; errors are
// *Error.
//
// A named pipe or a device is written to as it is (OpenStream, which ctx
// ends): one that no program reads is refused rather than waited on.
func Create(ctx context.Context, path string) (*os.File, error) {
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() && !fi.IsDir() {
		return OpenStream(ctx, path)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, Perm)
	return f, Explain(path, true, err)
}

// CreateOwn creates or truncates the file at path as Create does, and
// gives it Perm whatever permissions it had: for a file a command writes
// of its own in a directory a person named (a gallery's page, a
// rehearsal's report), which the person did not name and may have from
// an earlier run or version (0644).
func CreateOwn(ctx context.Context, path string) (*os.File, error) {
	f, err := Create(ctx, path)
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(Perm); err != nil {
		f.Close()
		return nil, Explain(path, true, err)
	}
	return f, nil
}

// FirstLine returns the first line of the regular file at path (without
// its line ending) and true when the file exists and holds anything; a
// file that cannot be opened, is empty, or is a device or a pipe gives
// false. A command checks with it that a file it would replace holds what
// it writes, not the recipients file named by mistake.
func FirstLine(path string) (string, bool) {
	f, err := Open(path) // never waits on a pipe
	if err != nil {
		return "", false
	}
	defer f.Close()
	line, err := bufio.NewReader(io.LimitReader(f, 4096)).ReadString('\n')
	if line == "" && err != nil {
		return "", false
	}
	return strings.TrimRight(line, "\r\n"), true
}

// Replaceable refuses to replace file (path as the user gave it) when it is
// a regular file whose first line begins with none of prefixes: a file of
// another kind than what (say "a report") given by mistake, the
// recipients file above all, would be lost. An empty file, a device or a
// pipe, or one that does not exist, may be written. holds says what a
// file that may be replaced holds, for the error, an *Error (OtherKind), so
// that the command line names the flag that gave the path, as for every
// other *Error. A path on a file system of the kernel's (/proc/version),
// existing or not, is an *Error (KernelFile).
func Replaceable(path, file, what, holds string, prefixes ...string) error {
	if fs := kernelFS(file); fs != "" {
		return &Error{Path: path, Problem: KernelFile, FS: fs}
	}
	first, ok := FirstLine(file)
	if !ok || slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(first, p) }) {
		return nil
	}
	return &Error{Path: path, Problem: OtherKind, What: what, Holds: holds, First: first}
}
