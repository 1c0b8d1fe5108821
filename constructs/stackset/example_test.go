package stackset_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/constructs/stackset"
)

// A baseline StackSet: every account of one OU, in two regions, including
// accounts that join the OU later; one account of another OU gets an
// override.
func ExampleNew() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Admin"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("444444444444"), Region: jsii.String("eu-west-1")},
	})
	s := stackset.New(stack, "Baseline", &stackset.Props{
		StackSetName:   "baseline",
		TemplateBody:   `{"Parameters":{"Tier":{"Type":"String","Default":"dev"}},"Resources":{"Topic":{"Type":"AWS::SNS::Topic"}}}`,
		AutoDeployment: true,
		Instances: []stackset.Targets{
			{OrganizationalUnitIDs: []string{"ou-ab12-cdefgh34"}, Regions: []string{"eu-west-1", "us-east-1"}},
			{OrganizationalUnitIDs: []string{"ou-ab12-ijklmn56"}, Accounts: []string{"222222222222"}, Regions: []string{"eu-west-1"},
				Overrides: map[string]*string{"Tier": jsii.String("prod")}},
		},
	})
	fmt.Println(*s.Resource().PermissionModel(), *s.Resource().CallAs())
	// Output:
	// SERVICE_MANAGED DELEGATED_ADMIN
}
