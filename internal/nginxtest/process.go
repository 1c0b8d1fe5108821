package nginxtest

import (
	"errors"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// Run starts cmd in a process group of its own and, when tb ends, stops the
// whole group: SIGTERM (nginx's fast shutdown, in which the master stops its
// workers), then SIGKILL to every process left in the group after 5 s.
// Killing only the master would orphan its workers.
func Run(tb testing.TB, cmd *exec.Cmd) {
	tb.Helper()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	pgid := cmd.Process.Pid
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	tb.Cleanup(func() {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
		// Whatever is left of the group (a worker that outlived a killed
		// master, say) goes too.
		if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			tb.Errorf("stop process group %d: %v", pgid, err)
		}
		<-done
	})
}

func syscallKill(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }
