//go:build tools

// Package tools pins pulumi-yaml, whose YAML language host scripts/install-pulumi.sh builds.
// It is a module of its own because pulumi-yaml v1.25.0 is built on pkg/v3 v3.206.0 and does
// not compile against the v3.274.1 that tools/pulumi pins for the CLI.
package tools

import (
	_ "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml"
)
