// Package check reports the mistakes in a construct's props the way a user
// can act on them: every mistake at once, each with the construct's path,
// the field, the value and the fix, and never by comparing a token (a value
// CloudFormation resolves at deploy) as if it were the value.
package check

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Props collects the mistakes in the props of one construct.
type Props struct {
	ctor, path string
	list       []string
}

// New starts the checks of the construct ctor (e.g. "consumervpc.New")
// about to be created as id in scope. A nil scope or an empty id is a
// mistake too.
func New(ctor string, scope constructs.Construct, id string) *Props {
	c := &Props{ctor: ctor, path: id}
	if scope == nil {
		c.Add("scope", "is nil; pass the stack or construct to create %s in", ctor)
	} else if p := *scope.Node().Path(); p != "" {
		c.path = p + "/" + id
	}
	if id == "" {
		c.Add("id", "is empty; give the construct an id, such as \"Obslink\"")
	}
	return c
}

// Path is the construct path the checks report.
func (c *Props) Path() string { return c.path }

// Add records that field is wrong: format says how, and how to fix it.
func (c *Props) Add(field, format string, args ...any) {
	c.list = append(c.list, field+" "+fmt.Sprintf(format, args...))
}

// OK reports whether no mistake was recorded.
func (c *Props) OK() bool { return len(c.list) == 0 }

// Err is every mistake recorded, in one error naming the construct's path,
// or nil.
func (c *Props) Err() error {
	if len(c.list) == 0 {
		return nil
	}
	return fmt.Errorf("%s(%q): %s", c.ctor, c.path, strings.Join(c.list, "; "))
}

// Panic ends construction with every mistake recorded, if there is one:
// like aws-cdk's own constructors on props that cannot describe the
// construct, with a message that names the path and each field.
func (c *Props) Panic() {
	if err := c.Err(); err != nil {
		panic(err.Error())
	}
}

// IsToken reports whether s is a token: a value known only at deploy.
func IsToken(s string) bool { return s != "" && *awscdk.Token_IsUnresolved(jsii.String(s)) }

// Literal records a mistake when value is a token: use says what needs
// it at synth, and the fix.
func (c *Props) Literal(field, value, use string) bool {
	if IsToken(value) {
		c.Add(field, "is %s, a value known only at deploy, but %s", value, use)
		return false
	}
	return true
}

// CIDR records a mistake when value is neither a token nor an IPv4 CIDR in
// canonical form (10.0.0.0/16). A token passes: CloudFormation checks it.
func (c *Props) CIDR(field, value string) {
	if IsToken(value) {
		return
	}
	if err := CIDR(value); err != nil {
		c.Add(field, "%v", err)
	}
}

// CIDR reports whether s is an IPv4 CIDR in canonical form.
func CIDR(s string) error {
	p, err := netip.ParsePrefix(s)
	switch {
	case s == "":
		return fmt.Errorf("is empty; give an IPv4 CIDR such as 10.0.0.0/16")
	case err != nil || !p.Addr().Is4():
		return fmt.Errorf("%q is not an IPv4 CIDR; write it as 10.0.0.0/16", s)
	case p.Masked() != p:
		return fmt.Errorf("%q has host bits set; write it as %s", s, p.Masked())
	}
	return nil
}

// ASN records a mistake unless asn is a private ASN a Transit Gateway
// takes: 64512-65534 or 4200000000-4294967294.
func (c *Props) ASN(field string, asn int64) {
	if !(asn >= 64512 && asn <= 65534) && !(asn >= 4200000000 && asn <= 4294967294) {
		c.Add(field, "%d is not a private ASN; use one of 64512-65534 or 4200000000-4294967294, distinct per gateway", asn)
	}
}

// Port records a mistake unless port is 1-65535.
func (c *Props) Port(field string, port int) {
	if port < 1 || port > 65535 {
		c.Add(field, "%d is not a port; use 1-65535", port)
	}
}
