package stacks

import "github.com/aws/jsii-runtime-go"

// The constructs take their props as aws-cdk's do (pointers, nil for the
// default); the topology holds values, "" and 0 for the default.

// str is s as a prop: nil for "".
func str(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// strs is list as a prop: nil for none.
func strs(list []string) *[]*string {
	if len(list) == 0 {
		return nil
	}
	return jsii.Strings(list...)
}

// num is n as a prop: nil for 0.
func num(n int) *float64 {
	if n == 0 {
		return nil
	}
	return jsii.Number(float64(n))
}

// numOf is *p as a prop: nil for nil.
func numOf(p *int) *float64 {
	if p == nil {
		return nil
	}
	return jsii.Number(float64(*p))
}
