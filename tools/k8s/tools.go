//go:build tools

// Package tools pins the Kubernetes release that scripts/install-kube.sh
// builds the test API server (and the controller manager that finishes
// namespace deletion) from. The blank imports keep `go mod tidy` from
// dropping the requirements; the build tag keeps this file out of builds.
package tools

import (
	_ "k8s.io/component-base/version"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
