// Command pythonhost is a small stand-in for Pulumi's Python language host,
// installed by scripts/install-pulumi.sh as `pulumi-language-python`.
//
// Why it exists: the upstream host lives in its own untagged Go module
// (github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3). The Go
// module proxy reachable from our machines refuses every version of that
// module (403 even for @v/list), so it cannot be built here. Everything the
// host needs is in the sdk/v3 and pkg/v3 libraries we can fetch, so this file
// only wires those together.
//
// It implements what our workflows use:
//   - Run: executes the program through `pulumi-language-python-exec`, the
//     script that ships in the sdk/v3 module and is copied next to this binary;
//   - GetRequiredPackages: reports the installed Python packages that carry a
//     `pulumi-plugin.json` with "resource": true;
//   - GeneratePackage: Python SDK generation for `pulumi package gen-sdk`;
//   - Handshake and GetPluginInfo.
//
// Every other RPC answers Unimplemented, which the engine tolerates for the
// optional ones (Cancel, InstallDependencies, RuntimeOptionsPrompts, ...).
// Supported Pulumi.yaml runtime options: `virtualenv` and `toolchain: pip`.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	pygen "github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// execScriptName is the runner script the Python SDK expects to be started with.
const execScriptName = "pulumi-language-python-exec"

// userErrorExit is the exit code the exec script uses after it has already
// reported a user-facing error to the engine (so no further message is needed).
const userErrorExit = 32

func main() {
	showVersion := flag.Bool("version", false, "print the plugin version and exit")
	executor := flag.String("use-executor", "", "path of the exec script (default: next to this binary)")
	flag.String("tracing", "", "accepted for compatibility; ignored")
	flag.Parse()
	if *showVersion {
		fmt.Println(version.Version)
		return
	}

	if *executor == "" {
		self, err := os.Executable()
		if err != nil {
			fail(err)
		}
		*executor = filepath.Join(filepath.Dir(self), execScriptName)
	}
	if _, err := os.Stat(*executor); err != nil {
		fail(fmt.Errorf("missing executor: %w", err))
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cancel := make(chan bool)
	go func() { <-ctx.Done(); close(cancel) }()

	h := &host{exec: *executor, ctx: ctx, stop: stop}
	// The engine passes its own address as the first positional argument; watch
	// it so that we exit when the engine goes away.
	if flag.NArg() > 0 {
		h.setEngine(flag.Arg(0))
	}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
	})
	if err != nil {
		fail(err)
	}
	// The engine reads the port from our stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "pulumi-language-python: %v\n", err)
	os.Exit(1)
}

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	exec string
	ctx  context.Context    // lives as long as the process
	stop context.CancelFunc // shuts the server down

	mu     sync.Mutex
	engine string
}

// setEngine records the engine address and exits the host once the engine
// stops answering health checks.
func (h *host) setEngine(addr string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if addr == "" || h.engine == addr {
		return
	}
	h.engine = addr
	if err := rpcutil.Healthcheck(h.ctx, addr, 5*time.Minute, h.stop); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-python: engine health check: %v\n", err)
	}
}

func (h *host) engineAddr() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engine
}

func (h *host) Handshake(
	ctx context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.setEngine(req.GetEngineAddress())
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
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

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
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
	// The SDK reads stack configuration from these two variables; it needs
	// JSON objects/arrays, never `null`, so nil becomes empty.
	config, secretKeys := req.GetConfig(), req.GetConfigSecretKeys()
	if config == nil {
		config = map[string]string{}
	}
	if secretKeys == nil {
		secretKeys = []string{}
	}
	cfg, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	keys, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, "PULUMI_CONFIG="+string(cfg), "PULUMI_CONFIG_SECRET_KEYS="+string(keys))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr

	err = cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exitErr) && exitErr.ExitCode() == userErrorExit:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exitErr):
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("program exited with non-zero exit code: %d", exitErr.ExitCode()),
		}, nil
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run the Python executor: %v", err)}, nil
	}
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

func (h *host) GetRequiredPackages(
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
		if !meta.Resource {
			continue
		}
		dep := &pulumirpc.PackageDependency{
			Kind:    "resource",
			Name:    meta.Name,
			Version: meta.Version,
			Server:  meta.Server,
		}
		if dep.Name == "" {
			dep.Name = strings.TrimPrefix(strings.ReplaceAll(strings.ToLower(found.Name), "_", "-"), "pulumi-")
		}
		if dep.Version == "" {
			if dep.Version = semverFromPEP440(found.Version); dep.Version == "" {
				continue // no way to tell which plugin version matches
			}
		}
		if !strings.HasPrefix(dep.Version, "v") {
			dep.Version = "v" + dep.Version
		}
		if p := meta.Parameterization; p != nil {
			dep.Parameterization = &pulumirpc.PackageParameterization{
				Name: p.Name, Version: p.Version, Value: p.Value,
			}
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

func (h *host) GeneratePackage(
	ctx context.Context, req *pulumirpc.GeneratePackageRequest,
) (*pulumirpc.GeneratePackageResponse, error) {
	client, err := schema.NewLoaderClient(req.GetLoaderTarget())
	if err != nil {
		return nil, err
	}
	defer client.Close()
	loader := schema.NewCachedLoader(client)

	var spec schema.PackageSpec
	if err := json.Unmarshal([]byte(req.GetSchema()), &spec); err != nil {
		return nil, err
	}
	pkg, diags, err := schema.BindSpec(spec, loader, schema.ValidationOptions{AllowDanglingReferences: true})
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.GeneratePackageResponse{Diagnostics: plugin.HclDiagnosticsToRPCDiagnostics(diags)}
	if diags.HasErrors() {
		return resp, nil
	}

	files, err := pygen.GeneratePackage("pulumi-language-python", pkg, req.GetExtraFiles(), loader)
	if err != nil {
		return nil, err
	}
	for name, data := range files {
		path := filepath.Join(req.GetDirectory(), name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return nil, err
		}
	}
	return resp, nil
}
