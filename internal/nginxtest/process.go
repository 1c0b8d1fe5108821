package nginxtest

import (
	"errors"
	"os"
	"os/exec"
	"strings"
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

// PythonUnittest runs `python3 -m unittest -v module` in dir, for the
// custom-resource handlers' tests against moto's emulated AWS APIs. moto and
// boto3 come with the machine image (PyPI is not reachable here): where they
// are missing the test skips, and fails under OBSLINK_REQUIRE_ALL=1.
func PythonUnittest(t *testing.T, dir, module string) {
	t.Helper()
	python := Require(t, "python3")
	if out, err := exec.Command(python, "-c", "import moto.server, boto3").CombinedOutput(); err != nil {
		msg := "python3 lacks moto or boto3 (they come with the machine image; PyPI is not reachable here): " + strings.TrimSpace(string(out))
		if os.Getenv("OBSLINK_REQUIRE_ALL") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	cmd := exec.Command(python, "-m", "unittest", "-v", module)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "\nOK") {
		t.Errorf("%s failed (%v):\n%s", module, err, out)
		return
	}
	t.Logf("%s", out)
}
