package constructs_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCdkNagIsNotForcedOnImporters: an app that imports the constructs
// builds without cdk-nag; the constructs record their suppressions as
// metadata, and cdk-nag's checks run only where an app applies them.
func TestCdkNagIsNotForcedOnImporters(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "./...").CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, pkg := range strings.Fields(string(out)) {
		assert.False(t, strings.HasPrefix(pkg, "github.com/cdklabs/cdk-nag-go/"), "a construct package depends on %s", pkg)
	}
}
