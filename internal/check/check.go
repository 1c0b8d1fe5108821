// Package check reports the mistakes in a construct's props the way a user
// can act on them: every mistake at once, each with the construct's path,
// the field, the value and the fix, and never by comparing a token (a value
// CloudFormation resolves at deploy) as if it were the value.
package check

import (
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Props collects the mistakes in the props of one construct.
type Props struct {
	ctor string
	// scope and id name the construct (In: no id); its path is read from
	// jsii only when a message needs it (a round trip to Node each).
	scope constructs.Construct
	id    *string
	list  []string
}

// New starts the checks of the construct ctor (e.g. "consumervpc.New")
// about to be created as id in scope. A nil scope or a nil or empty id is
// a mistake too.
func New(ctor string, scope constructs.Construct, id *string) *Props {
	c := In(ctor, scope)
	c.id = jsii.String(Str(id))
	if *c.id == "" {
		c.Add("id", "is empty; give the construct an id, such as jsii.String(\"Obslink\")")
	}
	return c
}

// In starts the checks of ctor (e.g. "endpointservice.Publish"), which
// creates its resources directly in scope. A nil scope is a mistake too.
func In(ctor string, scope constructs.Construct) *Props {
	c := &Props{ctor: ctor, scope: scope}
	if scope == nil {
		c.Add("scope", "is nil; pass the stack or construct to create %s in", ctor)
	}
	return c
}

// Path is the construct path the checks report.
func (c *Props) Path() string {
	path := ""
	if c.scope != nil {
		path = *c.scope.Node().Path()
	}
	if c.id == nil { // In: the scope's path
		return path
	}
	return strings.TrimPrefix(path+"/"+*c.id, "/")
}

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
	return fmt.Errorf("%s(%q): %s", c.ctor, c.Path(), strings.Join(c.list, "; "))
}

// Panic ends construction with every mistake recorded, if there is one:
// like aws-cdk's own constructors on props that cannot describe the
// construct, with a message that names the path and each field.
func (c *Props) Panic() {
	if err := c.Err(); err != nil {
		panic(err.Error())
	}
}

// Str is *p, or "" when the prop is left out (nil).
func Str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// Bool is *p, or false when the prop is left out (nil).
func Bool(p *bool) bool { return p != nil && *p }

// Int is *p as a whole number, or def when the prop is left out (nil); a
// fraction is a mistake.
func (c *Props) Int(field string, p *float64, def int) int {
	switch {
	case p == nil:
		return def
	case *p != math.Trunc(*p) || math.Abs(*p) > 1<<53:
		c.Add(field, "%v is not a whole number", *p)
		return def
	}
	return int(*p)
}

// Strings is the strings of p, none when the prop is left out (nil); a nil
// element is a mistake.
func (c *Props) Strings(field string, p *[]*string) []string {
	if p == nil {
		return nil
	}
	out := make([]string, len(*p))
	for i, s := range *p {
		if s == nil {
			c.Add(fmt.Sprintf("%s[%d]", field, i), "is nil; give a value or leave the element out")
			continue
		}
		out[i] = *s
	}
	return out
}

// List is the elements of p, none when the prop is left out (nil); a nil
// element is a mistake, and stays in the list (so indices match the
// props): skip it until Panic.
func List[T any](c *Props, field string, p *[]*T) []*T {
	if p == nil {
		return nil
	}
	for i, e := range *p {
		if e == nil {
			c.Add(fmt.Sprintf("%s[%d]", field, i), "is nil; give a value or leave the element out")
		}
	}
	return *p
}

// IsToken reports whether s is a token: a value known only at deploy.
func IsToken(s string) bool {
	// aws-cdk-lib's Token.isUnresolved looks no further in a string without
	// "Token[" (its ANY_TOKEN_MARKER), and finds a token in one that holds
	// its string token's pattern (${Token[KEY]}): both known without a round
	// trip to Node. TestIsTokenAgreesWithCDK holds them to its answers.
	switch {
	case !strings.Contains(s, "Token["):
		return false
	case reStringToken.MatchString(s):
		return true
	}
	return *awscdk.Token_IsUnresolved(jsii.String(s))
}

// reStringToken is aws-cdk-lib's string token: ${Token[KEY]}, KEY of
// letters, digits and ":._-" (core/lib/private/encoding.js).
var reStringToken = regexp.MustCompile(`\$\{Token\[[a-zA-Z0-9:._-]+\]\}`)

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

var reAccount = regexp.MustCompile(`^[0-9]{12}$`)

// Account records a mistake unless value is a token or a 12-digit AWS
// account id; fix says whose account to give.
func (c *Props) Account(field, value, fix string) {
	if !IsToken(value) && !reAccount.MatchString(value) {
		c.Add(field, "%q is not a 12-digit account id; give %s", value, fix)
	}
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
