package cfndiff

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
)

// createonly.json is generated from CloudFormation's resource schemas as
// cfn-lint ships them (TestCreateOnlyTable checks it against them, and
// rewrites it with UPDATE_CREATEONLY=1; UPDATE_CREATEONLY=AWS::X::Y adds a
// type).
//
//go:embed createonly.json
var createOnlyJSON []byte

// Schema is what CloudFormation's resource schema of one type says about
// replacement: a change to a create-only property replaces the resource; a
// change to a conditionally create-only one may (AutoScalingGroup's
// LaunchTemplate, for example, only under an AutoScalingReplacingUpdate
// policy).
type Schema struct {
	// CreateOnly are JSON pointers such as /properties/VpcId or
	// /properties/DnsOptions/PrivateDnsPreference.
	CreateOnly []string `json:"createOnly"`
	// Conditional are the conditionally create-only properties.
	Conditional []string `json:"conditional,omitempty"`
}

// Table is the create-only properties of the resource types obslink
// synthesizes, and where they come from.
type Table struct {
	Source string            `json:"source"`
	Types  map[string]Schema `json:"types"`
}

// CreateOnlyTable returns the embedded table.
func CreateOnlyTable() (Table, error) {
	var t Table
	if err := json.Unmarshal(createOnlyJSON, &t); err != nil {
		return Table{}, fmt.Errorf("cfndiff: embedded createonly.json: %w", err)
	}
	return t, nil
}

// Known reports whether the table knows typ. Custom resources (Custom::*,
// AWS::CloudFormation::CustomResource) are updated in place: their handler
// decides, and obslink's keep their physical id.
func (t Table) Known(typ string) bool {
	_, ok := t.Types[typ]
	return ok || isCustom(typ)
}

func isCustom(typ string) bool {
	return strings.HasPrefix(typ, "Custom::") || typ == "AWS::CloudFormation::CustomResource"
}
