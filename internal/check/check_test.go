package check_test

import (
	"strconv"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"

	"github.com/obslink/obslink/internal/check"
)

// TestIsTokenAgreesWithCDK: IsToken answers what aws-cdk-lib's
// Token.isUnresolved answers, for values and for every kind of token a
// string can hold.
func TestIsTokenAgreesWithCDK(t *testing.T) {
	number := awscdk.Token_AsNumber(map[string]any{"Ref": "Port"})
	tests := []struct {
		name, give string
		want       bool
	}{
		{"empty", "", false},
		{"a name", "metrics", false},
		{"a CIDR", "10.1.0.0/16", false},
		{"a number", "1.5e+10", false},
		{"a string token", *awscdk.Token_AsString(map[string]any{"Ref": "X"}, nil), true},
		{"a token inside a string", "com.amazonaws.vpce.eu-west-1." + *awscdk.Aws_ACCOUNT_ID(), true},
		{"a join", *awscdk.Fn_Join(jsii.String(""), jsii.Strings("a", *awscdk.Aws_REGION())), true},
		{"a number token's digits", strconv.FormatFloat(*number, 'g', -1, 64), false},
		{"a token marker alone", "Token[x]", false},
		{"a token not closed", "${Token[TOKEN.1", false},
		{"a key aws-cdk-lib does not make", "${Token[a b]}", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, check.IsToken(tt.give))
			if tt.give != "" {
				assert.Equal(t, *awscdk.Token_IsUnresolved(jsii.String(tt.give)), check.IsToken(tt.give), "as aws-cdk-lib says")
			}
		})
	}
}
