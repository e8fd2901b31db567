// The Node.js language: programs run through the runner inside the program's
// own @pulumi/pulumi (cmd/run), TypeScript through ts-node as upstream does.
// Supported Pulumi.yaml runtime options: `typescript` (default true),
// `tsconfig`, `nodeargs` and `packagemanager` (npm, yarn, pnpm, bun or auto).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	nodegen "github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/nodejs/npm"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

type nodejsHost struct {
	*base
}

var nodejsOptions = []string{"typescript", "tsconfig", "nodeargs", "packagemanager"}

// nodeRunner finds @pulumi/pulumi's cmd/run the way Node's resolver would:
// in node_modules of the program directory or any directory above it.
func nodeRunner(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		run := filepath.Join(d, "node_modules", "@pulumi", "pulumi", "cmd", "run")
		if _, err := os.Stat(filepath.Join(run, "index.js")); err == nil {
			return run, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf(
				"@pulumi/pulumi is not installed for the program in %s: run `npm install` there first", dir)
		}
	}
}

func (h *nodejsHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	if err := rejectUnknownOptions(info, "Node.js", nodejsOptions...); err != nil {
		return nil, err
	}
	typescript, err := boolOption(info, "typescript", true)
	if err != nil {
		return nil, err
	}
	tsconfig, err := stringOption(info, "tsconfig")
	if err != nil {
		return nil, err
	}
	nodeargs, err := stringOption(info, "nodeargs")
	if err != nil {
		return nil, err
	}
	if _, err := packageManager(info); err != nil {
		return nil, err
	}

	runner, err := nodeRunner(programDir(info, req.GetPwd()))
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	args := append(strings.Fields(nodeargs), runner)
	for _, kv := range [][2]string{
		{"monitor", req.GetMonitorAddress()},
		{"engine", h.engineAddr()},
		{"organization", req.GetOrganization()},
		{"project", req.GetProject()},
		{"root-directory", info.GetRootDirectory()},
		{"stack", req.GetStack()},
		{"pwd", req.GetPwd()},
		{"parallel", strconv.Itoa(int(req.GetParallel()))},
	} {
		if kv[1] != "" {
			args = append(args, "--"+kv[0], kv[1])
		}
	}
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	entry := info.GetEntryPoint()
	if entry == "" {
		entry = "."
	}
	args = append(args, entry)
	args = append(args, req.GetArgs()...)

	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = req.GetPwd()
	env, err := configEnv(req)
	if err != nil {
		return nil, err
	}
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "PULUMI_NODEJS_TYPESCRIPT="+strconv.FormatBool(typescript))
	if tsconfig != "" {
		cmd.Env = append(cmd.Env, "PULUMI_NODEJS_TSCONFIG_PATH="+tsconfig)
	}
	return runProgram(cmd, "node"), nil
}

// packageManager reads the `packagemanager` option; npm's helpers in sdk/v3
// know npm, yarn, pnpm and bun, and pick one themselves for "auto" or none.
func packageManager(info *pulumirpc.ProgramInfo) (npm.PackageManagerType, error) {
	s, err := stringOption(info, "packagemanager")
	if err != nil {
		return "", err
	}
	switch pm := npm.PackageManagerType(s); pm {
	case "", npm.AutoPackageManager:
		return npm.AutoPackageManager, nil
	case npm.NpmPackageManager, npm.YarnPackageManager, npm.PnpmPackageManager, npm.BunPackageManager:
		return pm, nil
	default:
		return "", fmt.Errorf("runtime option packagemanager: %q is not one of npm, yarn, pnpm, bun, auto", s)
	}
}

func (h *nodejsHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	pm, err := packageManager(req.GetInfo())
	if err != nil {
		return err
	}
	dir := programDir(req.GetInfo(), req.GetDirectory()) //nolint:staticcheck // older engines
	out, errOut := installOutput(server)
	name, err := npm.Install(server.Context(), pm, dir, false, out, errOut)
	if err != nil {
		return fmt.Errorf("%s install in %s: %w", name, dir, err)
	}
	return nil
}

// nodePackage is the part of a package.json that says whether the package
// carries a resource plugin.
type nodePackage struct {
	Name    string                  `json:"name"`
	Version string                  `json:"version"`
	Pulumi  plugin.PulumiPluginJSON `json:"pulumi"`
}

// GetRequiredPackages reports every package in the program's node_modules
// (scoped ones included) whose package.json declares a resource plugin.
func (h *nodejsHost) GetRequiredPackages(
	ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	modules := filepath.Join(programDir(req.GetInfo(), ""), "node_modules")
	var manifests []string
	entries, err := os.ReadDir(modules)
	if errors.Is(err, os.ErrNotExist) {
		return &pulumirpc.GetRequiredPackagesResponse{}, nil
	} else if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "@") {
			scoped, err := os.ReadDir(filepath.Join(modules, e.Name()))
			if err != nil {
				continue
			}
			for _, s := range scoped {
				manifests = append(manifests, filepath.Join(modules, e.Name(), s.Name(), "package.json"))
			}
		} else if !strings.HasPrefix(e.Name(), ".") {
			manifests = append(manifests, filepath.Join(modules, e.Name(), "package.json"))
		}
	}

	resp := &pulumirpc.GetRequiredPackagesResponse{}
	for _, path := range manifests {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // a directory without a manifest is not a package
		}
		var pkg nodePackage
		if err := json.Unmarshal(data, &pkg); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if dep, ok := pluginDependency(pkg.Pulumi, strings.TrimPrefix(pkg.Name, "@pulumi/"), pkg.Version); ok {
			resp.Packages = append(resp.Packages, dep)
		}
	}
	return resp, nil
}

func (h *nodejsHost) GeneratePackage(
	ctx context.Context, req *pulumirpc.GeneratePackageRequest,
) (*pulumirpc.GeneratePackageResponse, error) {
	pkg, loader, resp, done, err := bindSchema(req)
	if err != nil {
		return nil, err
	}
	defer done()
	if pkg == nil {
		return resp, nil
	}
	files, err := nodegen.GeneratePackage(
		h.name, pkg, req.GetExtraFiles(), req.GetLocalDependencies(), req.GetLocal(), loader)
	if err != nil {
		return nil, err
	}
	return resp, writeFiles(req.GetDirectory(), files)
}
