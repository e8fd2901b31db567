// Command langhost is the language host for Python, Node.js and Go programs.
// scripts/install-pulumi.sh installs it three times, as pulumi-language-python,
// pulumi-language-nodejs and pulumi-language-go, next to the `pulumi` binary;
// the name it is started under picks the language.
//
// Why it exists: Pulumi's own hosts live in Go modules of their own that the
// module proxy reachable from our machines refuses (403, even for @v/list).
// Everything a host needs is in the sdk/v3 and pkg/v3 libraries we can fetch,
// so these files only wire those together.
//
// Each language implements Handshake, GetPluginInfo, Run, GetRequiredPackages
// and GeneratePackage; Node.js and Go also InstallDependencies. Every other RPC
// answers Unimplemented, which the engine tolerates for the optional ones.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// userErrorExit is the exit code every Pulumi language SDK uses after it has
// already reported a user-facing error to the engine: the run should bail
// without a second message.
const userErrorExit = 32

func main() {
	showVersion := flag.Bool("version", false, "print the plugin version and exit")
	lang := flag.String("language", "", "python, nodejs or go (default: from the executable's name)")
	executor := flag.String("use-executor", "", "Python: path of the exec script (default: next to this binary)")
	flag.String("tracing", "", "accepted for compatibility; ignored")
	flag.Parse()
	if *showVersion {
		fmt.Println(version.Version)
		return
	}
	if *lang == "" {
		*lang = strings.TrimPrefix(filepath.Base(os.Args[0]), "pulumi-language-")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cancel := make(chan bool)
	go func() { <-ctx.Done(); close(cancel) }()

	b := &base{name: "pulumi-language-" + *lang, ctx: ctx, stop: stop}
	var server pulumirpc.LanguageRuntimeServer
	switch *lang {
	case "python":
		h, err := newPythonHost(b, *executor)
		if err != nil {
			b.fail(err)
		}
		server = h
	case "nodejs":
		server = &nodejsHost{base: b}
	case "go":
		server = &goHost{base: b}
	default:
		b.fail(fmt.Errorf("unknown language %q: start as pulumi-language-{python,nodejs,go} or pass -language", *lang))
	}

	// The engine passes its own address as the first positional argument;
	// watch it so that we exit when the engine goes away.
	if flag.NArg() > 0 {
		b.setEngine(flag.Arg(0))
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, server)
			return nil
		},
	})
	if err != nil {
		b.fail(err)
	}
	// The engine reads the port from our stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		b.fail(err)
	}
}

// base is what every language shares: the engine address, Handshake and
// GetPluginInfo, and how a program's exit becomes a RunResponse.
type base struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	name string
	ctx  context.Context    // lives as long as the process
	stop context.CancelFunc // shuts the server down

	mu     sync.Mutex
	engine string
}

func (b *base) fail(err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", b.name, err)
	os.Exit(1)
}

// setEngine records the engine address and exits the host once the engine
// stops answering health checks.
func (b *base) setEngine(addr string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if addr == "" || b.engine == addr {
		return
	}
	b.engine = addr
	if err := rpcutil.Healthcheck(b.ctx, addr, 5*time.Minute, b.stop); err != nil {
		fmt.Fprintf(os.Stderr, "%s: engine health check: %v\n", b.name, err)
	}
}

func (b *base) engineAddr() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.engine
}

func (b *base) Handshake(
	ctx context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	b.setEngine(req.GetEngineAddress())
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (b *base) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

// configEnv is the stack configuration as every SDK reads it: two variables
// holding a JSON object and a JSON array (never `null`).
func configEnv(req *pulumirpc.RunRequest) ([]string, error) {
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
	return []string{"PULUMI_CONFIG=" + string(cfg), "PULUMI_CONFIG_SECRET_KEYS=" + string(keys)}, nil
}

// runProgram runs cmd with its output on ours (the engine shows both) and maps
// its exit to the RunResponse the engine expects.
func runProgram(cmd *exec.Cmd, what string) *pulumirpc.RunResponse {
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}
	case errors.As(err, &exitErr) && exitErr.ExitCode() == userErrorExit:
		return &pulumirpc.RunResponse{Bail: true}
	case errors.As(err, &exitErr):
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("program exited with non-zero exit code: %d", exitErr.ExitCode()),
		}
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run %s: %v", what, err)}
	}
}

// stringOption reads a string runtime option from Pulumi.yaml; a value of
// another type is an error naming the option, not a silent default.
func stringOption(info *pulumirpc.ProgramInfo, key string) (string, error) {
	val, ok := info.GetOptions().AsMap()[key]
	if !ok || val == nil {
		return "", nil
	}
	s, ok := val.(string)
	if !ok {
		return "", fmt.Errorf("runtime option %q must be a string, not %T", key, val)
	}
	return s, nil
}

// boolOption reads a boolean runtime option, with a default when it is absent.
func boolOption(info *pulumirpc.ProgramInfo, key string, def bool) (bool, error) {
	val, ok := info.GetOptions().AsMap()[key]
	if !ok || val == nil {
		return def, nil
	}
	b, ok := val.(bool)
	if !ok {
		return false, fmt.Errorf("runtime option %q must be true or false, not %v", key, val)
	}
	return b, nil
}

// rejectUnknownOptions names runtime options this host does not implement, so
// a typo or an unsupported setting fails the run instead of being ignored.
func rejectUnknownOptions(info *pulumirpc.ProgramInfo, lang string, known ...string) error {
	var unknown []string
	for key := range info.GetOptions().AsMap() {
		if !contains(known, key) {
			unknown = append(unknown, key)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	return fmt.Errorf("runtime options %s are not supported by this %s host (supported: %s)",
		strings.Join(unknown, ", "), lang, strings.Join(known, ", "))
}

func contains(list []string, s string) bool {
	for _, item := range list {
		if item == s {
			return true
		}
	}
	return false
}

// pluginDependency turns a pulumi-plugin.json found in a package into the
// engine's PackageDependency; ok is false when the package is not a resource
// plugin or has no usable version.
func pluginDependency(meta plugin.PulumiPluginJSON, fallbackName, fallbackVersion string) (*pulumirpc.PackageDependency, bool) {
	if !meta.Resource {
		return nil, false
	}
	dep := &pulumirpc.PackageDependency{
		Kind: "resource", Name: meta.Name, Version: meta.Version, Server: meta.Server,
	}
	if dep.Name == "" {
		dep.Name = fallbackName
	}
	if dep.Version == "" {
		dep.Version = fallbackVersion
	}
	if dep.Name == "" || dep.Version == "" {
		return nil, false
	}
	if !strings.HasPrefix(dep.Version, "v") {
		dep.Version = "v" + dep.Version
	}
	if p := meta.Parameterization; p != nil {
		dep.Parameterization = &pulumirpc.PackageParameterization{
			Name: p.Name, Version: p.Version, Value: p.Value,
		}
	}
	return dep, true
}

// bindSchema binds the package schema of a GeneratePackage request against the
// engine's schema loader. A schema with errors returns the diagnostics only.
func bindSchema(req *pulumirpc.GeneratePackageRequest) (
	*schema.Package, schema.ReferenceLoader, *pulumirpc.GeneratePackageResponse, func(), error,
) {
	client, err := schema.NewLoaderClient(req.GetLoaderTarget())
	if err != nil {
		return nil, nil, nil, nil, err
	}
	loader := schema.NewCachedLoader(client)

	var spec schema.PackageSpec
	if err := json.Unmarshal([]byte(req.GetSchema()), &spec); err != nil {
		client.Close()
		return nil, nil, nil, nil, err
	}
	pkg, diags, err := schema.BindSpec(spec, loader, schema.ValidationOptions{AllowDanglingReferences: true})
	if err != nil {
		client.Close()
		return nil, nil, nil, nil, err
	}
	resp := &pulumirpc.GeneratePackageResponse{Diagnostics: plugin.HclDiagnosticsToRPCDiagnostics(diags)}
	if diags.HasErrors() {
		pkg = nil
	}
	return pkg, loader, resp, func() { client.Close() }, nil
}

// writeFiles writes generated files under dir.
func writeFiles(dir string, files map[string][]byte) error {
	for name, data := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// installOutput gives writers that stream an install's output back to the
// engine, which shows it to the user.
func installOutput(server pulumirpc.LanguageRuntime_InstallDependenciesServer) (stdout, stderr io.Writer) {
	stdout = &streamWriter{send: func(p []byte) error {
		return server.Send(&pulumirpc.InstallDependenciesResponse{Stdout: p})
	}}
	stderr = &streamWriter{send: func(p []byte) error {
		return server.Send(&pulumirpc.InstallDependenciesResponse{Stderr: p})
	}}
	return stdout, stderr
}

// streamWriter forwards each write as one message; gRPC sends are not safe
// from two goroutines at once, and exec copies stdout and stderr concurrently.
type streamWriter struct {
	send func([]byte) error
}

var sendMu sync.Mutex

func (w *streamWriter) Write(p []byte) (int, error) {
	sendMu.Lock()
	defer sendMu.Unlock()
	if err := w.send(append([]byte(nil), p...)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// programDir is the directory a program lives in, from its ProgramInfo (or the
// deprecated directory field older engines send).
func programDir(info *pulumirpc.ProgramInfo, fallback string) string {
	if dir := info.GetProgramDirectory(); dir != "" {
		return dir
	}
	return fallback
}
