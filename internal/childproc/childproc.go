// Package childproc starts child processes that the kernel kills when the
// process that started them dies (PDEATHSIG), for tests and the bench.
//
// The kernel sends the parent-death signal when the thread that forked the
// child ends, not when the process does. Go ends an OS thread when a
// goroutine locked to it returns, so a child started from an ordinary
// goroutine can be killed mid-run because some unrelated locked goroutine
// (another child's, say, once that child has exited) happened to run on, and
// then end, the thread that had started it. Start gives each child a thread
// of its own that ends only after the child has exited.
package childproc

import (
	"os/exec"
	"runtime"
	"syscall"
)

// Start starts cmd with SIGKILL as its parent-death signal, from a goroutine
// locked to its OS thread for the child's whole life. The returned channel
// receives cmd.Wait's result once the child has exited, and is then closed.
func Start(cmd *exec.Cmd) (<-chan error, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	started := make(chan error, 1)
	exited := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine, after the child
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		exited <- cmd.Wait()
		close(exited)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return exited, nil
}
