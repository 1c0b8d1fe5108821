package faults

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
)

// insideEnv marks the test binary that runs inside the suite's namespaces.
const insideEnv = "OBSLINK_FAULTS_INSIDE"

// TestMain runs the suite in namespaces of its own (make faults sets
// OBSLINK_FAULTS=1): a network namespace, so that the faults' packet
// filters, the fixed ports and every connection stay inside it; a mount
// namespace, so that the agents' host names resolve through an /etc/hosts
// of its own; a PID namespace, so that every process the suite starts
// (nginx's workers included) ends with it, whatever happens to the test.
// Without OBSLINK_FAULTS=1 the tests skip (go test ./... in the module).
func TestMain(m *testing.M) {
	if os.Getenv("OBSLINK_FAULTS") == "1" && os.Getenv(insideEnv) == "" {
		os.Exit(reexec())
	}
	if os.Getenv(insideEnv) == "1" {
		if err := setupNamespace(); err != nil {
			fmt.Fprintln(os.Stderr, "fault suite:", err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// reexec runs this test binary again under unshare(1), inside new network,
// mount and PID namespaces, and returns its exit code.
func reexec() int {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "fault suite: needs root (network namespaces, packet filters)")
		return 1
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		fmt.Fprintln(os.Stderr, "fault suite: unshare (util-linux) is not installed")
		return 1
	}
	args := append([]string{"--net", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc", "--"}, os.Args...)
	cmd := exec.Command(unshare, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// If this process dies (go test's timeout kills it), unshare dies too,
	// and with it, through --kill-child, everything in the namespaces. The
	// signal is tied to the thread that starts unshare.
	runtime.LockOSThread()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Env = append(os.Environ(), insideEnv+"=1")
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "fault suite:", err)
		return 1
	}
	return 0
}

// setupNamespace brings the namespace's loopback up and points the
// agents' host names at the stand-in NLB.
func setupNamespace() error {
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		return fmt.Errorf("ip link set lo up: %v: %s", err, out)
	}
	hosts := filepath.Join(os.TempDir(), fmt.Sprintf("obslink-faults-hosts-%d", os.Getpid()))
	text := "127.0.0.1 localhost\n"
	for _, s := range []string{"metrics", "logs", "traces"} {
		text += nlbIP + " " + s + "." + domain + "\n"
	}
	if err := os.WriteFile(hosts, []byte(text), 0o644); err != nil {
		return err
	}
	if err := syscall.Mount(hosts, "/etc/hosts", "", syscall.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind-mount /etc/hosts: %w", err)
	}
	return os.Remove(hosts) // the mount keeps it
}

// inside skips t unless it runs in the suite's namespaces.
func inside(t *testing.T) {
	t.Helper()
	if os.Getenv(insideEnv) != "1" {
		t.Skip("the fault suite runs with make faults (OBSLINK_FAULTS=1)")
	}
}
