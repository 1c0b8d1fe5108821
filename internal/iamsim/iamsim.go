// Package iamsim evaluates IAM requests the way AWS does, for the
// deploy-truth gates: identity policies, resource policies (a role's trust
// policy for sts:AssumeRole) and condition keys per action and resource type,
// by the maintained evaluator @cloud-copilot/iam-simulate (npm, installed in
// .toolchain/ by `make toolchain`; AGPL, used as a test tool and never
// shipped). It also resolves the intrinsic functions of synthesized templates
// into the strings IAM would see.
package iamsim

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

//go:embed simulate.mjs
var script []byte

// Decisions the evaluator returns.
const (
	Allowed          = "Allowed"
	ImplicitlyDenied = "ImplicitlyDenied"
	ExplicitlyDenied = "ExplicitlyDenied"
)

// Case is one request and the policies that decide it.
type Case struct {
	// Principal is the caller's ARN (a role, for obslink's callers).
	Principal string `json:"principal"`
	// Action is service:Action.
	Action string `json:"action"`
	// Resource is the ARN the action is authorized against (one resource
	// type per case: an action that authorizes two resources is two cases).
	Resource string `json:"resource"`
	// ResourceAccount owns the resource.
	ResourceAccount string `json:"resourceAccount"`
	// Context holds the request's condition keys (string or []string values).
	Context map[string]any `json:"context,omitempty"`
	// IdentityPolicies are the caller's policy documents.
	IdentityPolicies []any `json:"identityPolicies"`
	// ResourcePolicy is the resource's policy (a role's trust policy), or nil.
	ResourcePolicy any `json:"resourcePolicy,omitempty"`
}

// Result is the evaluator's answer to a Case.
type Result struct {
	// Decision is Allowed, ImplicitlyDenied, ExplicitlyDenied, or Error.
	Decision string `json:"decision"`
	// Error holds the evaluator's validation errors (unknown action, resource
	// type or condition key for the action), when Decision is Error.
	Error string `json:"error"`
}

// AdministratorAccess is the identity policy of the CDK bootstrap's
// CloudFormation execution role by default.
var AdministratorAccess = map[string]any{
	"Version":   "2012-10-17",
	"Statement": []any{map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*"}},
}

// Simulate evaluates every case in one run of the evaluator.
func Simulate(cases []Case) ([]Result, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	toolchain := filepath.Join(root, ".toolchain")
	if _, err := os.Stat(filepath.Join(toolchain, "node_modules", "@cloud-copilot", "iam-simulate")); err != nil {
		return nil, fmt.Errorf("the IAM evaluator is not installed: run `make toolchain` (npm ci in .toolchain/)")
	}
	node := os.Getenv("JSII_NODE")
	if node == "" {
		node = filepath.Join(toolchain, "node_modules", "node", "bin", "node")
	}
	dir, err := os.MkdirTemp("", "iamsim")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "simulate.mjs")
	if err := os.WriteFile(path, script, 0o644); err != nil {
		return nil, err
	}
	in, err := json.Marshal(cases)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(node, path, toolchain)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("iam-simulate: %v: %s", err, stderr.String())
	}
	var res []Result
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("iam-simulate output: %v: %s", err, out)
	}
	if len(res) != len(cases) {
		return nil, fmt.Errorf("iam-simulate returned %d results for %d cases", len(res), len(cases))
	}
	return res, nil
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}
