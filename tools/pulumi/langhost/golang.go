// The Go language: the host builds the program with `go build` and runs the
// binary; the Go SDK reads everything it needs from PULUMI_* variables.
// Supported Pulumi.yaml runtime options: `binary` (run a prebuilt program
// instead of building one) and `buildTarget` (where to write the build).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

type goHost struct {
	*base
}

var goOptions = []string{"binary", "buildTarget"}

// goProgram returns the binary to run for a program: the prebuilt `binary`, or
// a fresh `go build` of the program directory. cleanup removes a temporary
// build; a build failure comes back as buildErr with the compiler's output,
// which is the user's problem, not the host's.
func goProgram(ctx context.Context, info *pulumirpc.ProgramInfo, pwd string) (
	binary string, cleanup func(), buildErr string, err error,
) {
	cleanup = func() {}
	if err := rejectUnknownOptions(info, "Go", goOptions...); err != nil {
		return "", cleanup, "", err
	}
	prebuilt, err := stringOption(info, "binary")
	if err != nil {
		return "", cleanup, "", err
	}
	target, err := stringOption(info, "buildTarget")
	if err != nil {
		return "", cleanup, "", err
	}
	dir := programDir(info, pwd)
	if prebuilt != "" {
		if target != "" {
			return "", cleanup, "", errors.New("runtime options binary and buildTarget exclude each other")
		}
		if !filepath.IsAbs(prebuilt) {
			prebuilt = filepath.Join(dir, prebuilt)
		}
		if _, err := os.Stat(prebuilt); err != nil {
			return "", cleanup, "", fmt.Errorf("runtime option binary: %w", err)
		}
		return prebuilt, cleanup, "", nil
	}

	if target == "" {
		tmp, err := os.MkdirTemp("", "pulumi-go-program-")
		if err != nil {
			return "", cleanup, "", err
		}
		cleanup = func() { os.RemoveAll(tmp) }
		target = filepath.Join(tmp, "program")
	} else if !filepath.IsAbs(target) {
		target = filepath.Join(dir, target)
	}
	build := exec.CommandContext(ctx, "go", "build", "-o", target, ".")
	build.Dir = dir
	var output bytes.Buffer
	build.Stdout, build.Stderr = &output, &output
	if err := build.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return "", cleanup, fmt.Sprintf("go build of the program in %s failed:\n%s", dir, output.String()), nil
		}
		return "", cleanup, "", fmt.Errorf("running go build: %w", err)
	}
	return target, cleanup, "", nil
}

func (h *goHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	binary, cleanup, buildErr, err := goProgram(ctx, req.GetInfo(), req.GetPwd())
	defer cleanup()
	if err != nil {
		return nil, err
	}
	if buildErr != "" {
		return &pulumirpc.RunResponse{Error: buildErr}, nil
	}

	cmd := exec.CommandContext(ctx, binary, req.GetArgs()...)
	cmd.Dir = req.GetPwd()
	env, err := configEnv(req)
	if err != nil {
		return nil, err
	}
	cmd.Env = append(os.Environ(), env...)
	for name, value := range map[string]string{
		"PULUMI_MONITOR":        req.GetMonitorAddress(),
		"PULUMI_ENGINE":         h.engineAddr(),
		"PULUMI_PROJECT":        req.GetProject(),
		"PULUMI_STACK":          req.GetStack(),
		"PULUMI_ORGANIZATION":   req.GetOrganization(),
		"PULUMI_ROOT_DIRECTORY": req.GetInfo().GetRootDirectory(),
		"PULUMI_DRY_RUN":        strconv.FormatBool(req.GetDryRun()),
		"PULUMI_PARALLEL":       strconv.Itoa(int(req.GetParallel())),
	} {
		cmd.Env = append(cmd.Env, name+"="+value)
	}
	return runProgram(cmd, "the Go program"), nil
}

func (h *goHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	dir := programDir(req.GetInfo(), req.GetDirectory()) //nolint:staticcheck // older engines
	cmd := exec.CommandContext(server.Context(), "go", "mod", "download")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = installOutput(server)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go mod download in %s: %w", dir, err)
	}
	return nil
}

// goModule is what `go list -m -json all` says of each module in the build.
type goModule struct {
	Path    string
	Version string
	Dir     string
	Replace *goModule
}

// GetRequiredPackages reports every module the program depends on that holds
// a pulumi-plugin.json declaring a resource plugin, at its root or in a
// package directory one level down (where generated SDKs put it).
func (h *goHost) GetRequiredPackages(
	ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	dir := programDir(req.GetInfo(), "")
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-json", "all")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -m all in %s: %w: %s", dir, err, stderr.String())
	}

	resp := &pulumirpc.GetRequiredPackagesResponse{}
	decoder := json.NewDecoder(bufio.NewReader(bytes.NewReader(out)))
	for {
		var mod goModule
		if err := decoder.Decode(&mod); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("reading go list output: %w", err)
		}
		if mod.Replace != nil && mod.Replace.Dir != "" {
			mod.Dir = mod.Replace.Dir
		}
		if mod.Dir == "" {
			continue
		}
		candidates, _ := filepath.Glob(filepath.Join(mod.Dir, "*", "pulumi-plugin.json"))
		candidates = append([]string{filepath.Join(mod.Dir, "pulumi-plugin.json")}, candidates...)
		for _, path := range candidates {
			data, err := os.ReadFile(path)
			if err != nil {
				continue
			}
			var meta plugin.PulumiPluginJSON
			if err := json.Unmarshal(data, &meta); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			if dep, ok := pluginDependency(meta, "", ""); ok {
				resp.Packages = append(resp.Packages, dep)
				break
			}
		}
	}
	return resp, nil
}

func (h *goHost) GeneratePackage(
	ctx context.Context, req *pulumirpc.GeneratePackageRequest,
) (*pulumirpc.GeneratePackageResponse, error) {
	if len(req.GetExtraFiles()) > 0 {
		return nil, errors.New("the Go SDK generator takes no extra files")
	}
	pkg, _, resp, done, err := bindSchema(req)
	if err != nil {
		return nil, err
	}
	defer done()
	if pkg == nil {
		return resp, nil
	}
	files, err := gogen.GeneratePackage(h.name, pkg, req.GetLocalDependencies())
	if err != nil {
		return nil, err
	}
	return resp, writeFiles(req.GetDirectory(), files)
}
