//go:build tools

// Package tools pins the Pulumi Go modules that scripts/install-pulumi.sh
// builds the CLI from. The blank imports keep `go mod tidy` from dropping
// the requirements; the build tag keeps this file out of normal builds.
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
	_ "github.com/pulumi/pulumi/sdk/v3/go/common/version"
)
