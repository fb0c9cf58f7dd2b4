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

// Child is a child process Start started.
type Child struct {
	done chan struct{}
	err  error // cmd.Wait's, set before done is closed
}

// Done is closed once the child has exited.
func (c *Child) Done() <-chan struct{} { return c.done }

// Err waits for the child to exit and returns cmd.Wait's result.
func (c *Child) Err() error {
	<-c.done
	return c.err
}

// Start starts cmd with SIGKILL as its parent-death signal, from a goroutine
// locked to its OS thread for the child's whole life.
func Start(cmd *exec.Cmd) (*Child, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	started := make(chan error, 1)
	c := &Child{done: make(chan struct{})}
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine, after the child
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		c.err = cmd.Wait()
		close(c.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return c, nil
}
