// The Python language: programs run through `pulumi-language-python-exec`,
// the script that ships in the sdk/v3 module and is copied next to this binary.
// Supported Pulumi.yaml runtime options: `virtualenv` and `toolchain: pip`.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	pygen "github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
)

// execScriptName is the runner script the Python SDK expects to be started with.
const execScriptName = "pulumi-language-python-exec"

type pythonHost struct {
	*base
	exec string
}

// newPythonHost finds the exec script: the given path, or the one next to
// this binary.
func newPythonHost(b *base, executor string) (*pythonHost, error) {
	if executor == "" {
		self, err := os.Executable()
		if err != nil {
			return nil, err
		}
		executor = filepath.Join(filepath.Dir(self), execScriptName)
	}
	if _, err := os.Stat(executor); err != nil {
		return nil, fmt.Errorf("missing executor: %w", err)
	}
	return &pythonHost{base: b, exec: executor}, nil
}

// pythonFor resolves the interpreter for a program from its runtime options.
func pythonFor(info *pulumirpc.ProgramInfo) (toolchain.Toolchain, error) {
	opts := toolchain.PythonOptions{
		Root:       info.GetRootDirectory(),
		ProgramDir: info.GetProgramDirectory(),
		Toolchain:  toolchain.Pip,
	}
	for key, val := range info.GetOptions().AsMap() {
		s, _ := val.(string)
		switch key {
		case "virtualenv":
			opts.Virtualenv = s
		case "toolchain":
			if s != "pip" {
				return nil, fmt.Errorf("toolchain %q is not supported by this host (only pip)", s)
			}
		}
	}
	return toolchain.ResolveToolchain(opts)
}

func (h *pythonHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	tc, err := pythonFor(req.GetInfo())
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, err
	}

	// Flags understood by the exec script; empty values are left out.
	args := []string{h.exec}
	for _, kv := range [][2]string{
		{"monitor", req.GetMonitorAddress()},
		{"engine", h.engineAddr()},
		{"project", req.GetProject()},
		{"root_directory", req.GetInfo().GetRootDirectory()},
		{"stack", req.GetStack()},
		{"pwd", req.GetPwd()},
		{"dry_run", strconv.FormatBool(req.GetDryRun())},
		{"parallel", strconv.Itoa(int(req.GetParallel()))},
		{"organization", req.GetOrganization()},
	} {
		if kv[1] != "" {
			args = append(args, "--"+kv[0], kv[1])
		}
	}
	args = append(args, req.GetInfo().GetEntryPoint())
	args = append(args, req.GetArgs()...)

	cmd, err := tc.Command(ctx, args...)
	if err != nil {
		return nil, err
	}
	env, err := configEnv(req)
	if err != nil {
		return nil, err
	}
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, env...)
	return runProgram(cmd, "the Python executor"), nil
}

// findPluginsScript prints one JSON object per installed distribution whose
// top-level package directory holds a pulumi-plugin.json. find_spec also sees
// editable installs, which do not list their files in the dist metadata.
const findPluginsScript = `
import importlib.metadata as md, importlib.util as iu, json, os
seen = set()
for dist in md.distributions():
    name = dist.metadata["Name"]
    if not name or name in seen:
        continue
    seen.add(name)
    try:
        spec = iu.find_spec(name.replace("-", "_").lower())
    except Exception:
        continue
    for loc in (spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(loc, "pulumi-plugin.json")
        if os.path.isfile(path):
            print(json.dumps({"name": name, "version": dist.version, "path": path}))
            break
`

func (h *pythonHost) GetRequiredPackages(
	ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	tc, err := pythonFor(req.GetInfo())
	if err != nil {
		return nil, err
	}
	cmd, err := tc.Command(ctx, "-c", findPluginsScript)
	if err != nil {
		return nil, err
	}
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing Python packages: %w", err)
	}

	resp := &pulumirpc.GetRequiredPackagesResponse{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		var found struct{ Name, Version, Path string }
		if err := json.Unmarshal([]byte(line), &found); err != nil {
			return nil, err
		}
		data, err := os.ReadFile(found.Path)
		if err != nil {
			return nil, err
		}
		var meta plugin.PulumiPluginJSON
		if err := json.Unmarshal(data, &meta); err != nil {
			return nil, fmt.Errorf("%s: %w", found.Path, err)
		}
		name := strings.TrimPrefix(strings.ReplaceAll(strings.ToLower(found.Name), "_", "-"), "pulumi-")
		dep, ok := pluginDependency(meta, name, semverFromPEP440(found.Version))
		if !ok {
			continue
		}
		resp.Packages = append(resp.Packages, dep)
	}
	return resp, nil
}

var pep440 = regexp.MustCompile(`^(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:(a|b|rc)(\d+))?$`)

// semverFromPEP440 maps the common release shapes (1.2, 1.2.3, 1.2.3rc1) to
// semver; anything else yields "" and the package is skipped.
func semverFromPEP440(v string) string {
	m := pep440.FindStringSubmatch(v)
	if m == nil {
		return ""
	}
	for i := 2; i <= 3; i++ {
		if m[i] == "" {
			m[i] = "0"
		}
	}
	out := m[1] + "." + m[2] + "." + m[3]
	if m[4] != "" {
		pre := map[string]string{"a": "alpha", "b": "beta", "rc": "rc"}[m[4]]
		out += "-" + pre + "." + m[5]
	}
	return out
}

func (h *pythonHost) GeneratePackage(
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
	files, err := pygen.GeneratePackage(h.name, pkg, req.GetExtraFiles(), loader)
	if err != nil {
		return nil, err
	}
	return resp, writeFiles(req.GetDirectory(), files)
}
