package nginxtest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTestdepsWithoutRoot runs testdeps.sh (what make test runs first) as a
// user who cannot install anything, on a PATH without dig, dot and
// shellcheck and with no trixie root built: it must stop, naming the
// packages and the one command that installs them, and with SKIP_MISSING=1
// go on (exit 0), naming what the tests will skip for.
func TestTestdepsWithoutRoot(t *testing.T) {
	// Everything lives in a directory any user can read: the repository may
	// sit under a home directory the unprivileged user cannot enter.
	dir, err := os.MkdirTemp("", "testdeps")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	for _, script := range []string{"testdeps.sh", "newnginx.sh"} {
		b, err := os.ReadFile(script)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, script), b, 0o755))
	}
	// This machine's commands, less the three the packages below provide.
	bin := filepath.Join(dir, "bin")
	require.NoError(t, os.Mkdir(bin, 0o755))
	entries, err := os.ReadDir("/usr/bin")
	require.NoError(t, err)
	for _, e := range entries {
		switch e.Name() {
		case "dig", "dot", "shellcheck":
		default:
			require.NoError(t, os.Symlink(filepath.Join("/usr/bin", e.Name()), filepath.Join(bin, e.Name())))
		}
	}
	trixie := filepath.Join(dir, "trixie")

	run := func(env ...string) (string, int) {
		cmd := exec.Command("/bin/bash", filepath.Join(dir, "testdeps.sh"), trixie)
		cmd.Env = append([]string{"PATH=" + bin}, env...)
		if os.Getuid() == 0 {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		}
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return string(out), exit.ExitCode()
		}
		require.NoError(t, err, "%s", out)
		return string(out), 0
	}

	out, code := run()
	assert.Equal(t, 1, code, "without root, missing packages stop make test:\n%s", out)
	assert.Regexp(t, `(?m)^  apt-get install --no-install-recommends .*\bbind9-dnsutils\b`, out)
	assert.Regexp(t, `(?m)^  apt-get install --no-install-recommends .*\bshellcheck\b`, out)
	assert.Regexp(t, `(?m)^  apt-get install --no-install-recommends .*\bgraphviz\b`, out)
	assert.Contains(t, out, "  Debian 13's nginx in "+trixie)
	assert.Contains(t, out, "One command installs it all:  sudo make testdeps\n")
	assert.Contains(t, out, "make test SKIP_MISSING=1")

	out, code = run("SKIP_MISSING=1")
	assert.Equal(t, 0, code, "SKIP_MISSING=1 goes on to the tests:\n%s", out)
	assert.Contains(t, out, "not installed, so the tests that need it skip")
	assert.Regexp(t, `(?m)^  apt-get install --no-install-recommends .*\bbind9-dnsutils\b.*\bshellcheck\b.*\bgraphviz\b`, out)
	assert.NotContains(t, out, "sudo")
	_, err = os.Stat(trixie)
	assert.True(t, os.IsNotExist(err), "nothing is built without root")
}
