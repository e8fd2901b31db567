// Command provider-conformance is the first slice of a provider-protocol
// conformance suite. It starts a Pulumi resource-provider plugin the way the
// engine (pulumi/pkg v3.274.1) does, drives it through the engine's own
// provider client (pkg/v3/resource/plugin), and reports named checks, each
// with the engine behaviour it protects.
//
//	provider-conformance --provider PATH [--attach PORT] --fixtures FILE
//	    [--schema FILE] [--json OUT] [--name PKG] [--timeout DURATION] [--log FILE]
//
// The fixture format is described at the top of fixtures.go.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/pkg/v3/host"
	"github.com/pulumi/pulumi/pkg/v3/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"
	"github.com/pulumi/pulumi/sdk/v3/go/common/env"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

type options struct {
	provider string
	attach   int
	fixtures string
	schema   string
	jsonOut  string
	name     string
	timeout  time.Duration
	logOut   string
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func usageError(stderr io.Writer, fs *flag.FlagSet, msg string) int {
	fmt.Fprintln(stderr, "provider-conformance: "+msg)
	fs.Usage()
	return 2
}

func run(args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("provider-conformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.provider, "provider", "", "path of the provider plugin binary (pulumi-resource-NAME)")
	fs.IntVar(&o.attach, "attach", 0, "attach to a provider already listening on 127.0.0.1:PORT, "+
		"as PULUMI_DEBUG_PROVIDERS=NAME:PORT makes the engine do")
	fs.StringVar(&o.fixtures, "fixtures", "", "fixture file (JSON, see fixtures.go)")
	fs.StringVar(&o.schema, "schema", "", "checked-in schema.json the served schema must equal")
	fs.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file")
	fs.StringVar(&o.name, "name", "", "package name (default: from the schema, else the binary's name)")
	fs.DurationVar(&o.timeout, "timeout", 60*time.Second, "longest wait for any one provider call")
	fs.StringVar(&o.logOut, "log", "", "write what the engine's sinks received (Engine.Log, plugin stderr) "+
		"to this file, for debugging; it holds whatever the provider leaked")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: provider-conformance --provider PATH [--attach PORT] --fixtures FILE "+
			"[--schema FILE] [--json OUT] [--name PKG] [--timeout DURATION] [--log FILE]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		return usageError(stderr, fs, "unexpected arguments: "+strings.Join(fs.Args(), " "))
	}
	if o.provider == "" && o.attach == 0 {
		return usageError(stderr, fs, "--provider is required (or --attach PORT)")
	}
	if o.attach < 0 || o.attach > 65535 {
		return usageError(stderr, fs, "--attach must be a port number")
	}
	if o.fixtures == "" {
		return usageError(stderr, fs, "--fixtures is required")
	}
	if o.timeout <= 0 {
		return usageError(stderr, fs, "--timeout must be positive")
	}
	fixtureData, err := os.ReadFile(o.fixtures)
	if err != nil {
		return usageError(stderr, fs, err.Error())
	}
	if o.provider != "" {
		abs, err := filepath.Abs(o.provider)
		if err == nil {
			o.provider = abs
		}
		if info, err := os.Stat(o.provider); err != nil || info.IsDir() {
			return usageError(stderr, fs, "--provider "+o.provider+" is not a file")
		}
	}
	if o.attach != 0 && o.name == "" && binaryPackage(o.provider) == "" {
		return usageError(stderr, fs, "--attach needs --name PKG (or a --provider named pulumi-resource-PKG)")
	}

	rep := &report{}
	runAll(o, fixtureData, rep)

	rep.printTable(stdout)
	if o.jsonOut != "" {
		if err := rep.writeJSON(o.jsonOut); err != nil {
			fmt.Fprintln(stderr, "provider-conformance: writing "+o.jsonOut+": "+err.Error())
			return 1
		}
	}
	if _, failed, _ := rep.counts(); failed > 0 {
		return 1
	}
	return 0
}

// binaryPackage is NAME for a binary called pulumi-resource-NAME.
func binaryPackage(path string) string {
	name, ok := strings.CutPrefix(filepath.Base(path), "pulumi-resource-")
	if !ok {
		return ""
	}
	return name
}

// runAll runs every check and records them in rep.
func runAll(o options, fixtureData []byte, rep *report) {
	// Everything the engine's sinks receive: Engine.Log messages from the
	// provider, and (at debug level) the provider's stderr and stray stdout.
	engineLog := &lockedBuffer{}
	ownStderr := &lockedBuffer{}
	sink := diag.DefaultSink(engineLog, engineLog, diag.FormatOptions{Color: colors.Never, Debug: true})

	subject := o.name
	if subject == "" {
		subject = binaryPackage(o.provider)
	}
	if subject == "" {
		subject = "provider"
	}
	fixtureSubject := filepath.Base(o.fixtures)

	r := &runner{
		rep:     rep,
		timeout: o.timeout,
		res:     &resolver{outputs: map[string]property.Map{}},
		secrets: map[string]bool{},
	}

	fixtures, fixtureProblems, fixtureErr := parseFixtures(fixtureData)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h, err := host.New(ctx, sink, sink, nil, nil, nil, nil, nil)
	if err != nil {
		rep.fail("startup.handshake", subject, "could not start the engine host: "+err.Error())
		return
	}
	// The host and context wait for plugin loads and processes to finish; a
	// provider that wedged the engine's loader (for instance by writing more
	// to stdout after a bad port line) would hold them forever.
	defer within(10*time.Second, func() { _ = h.Close() })
	pwd, _ := os.Getwd()
	pctx, err := plugin.NewContextWithHost(ctx, sink, sink, h, pwd, pwd, nil, nil)
	if err != nil {
		rep.fail("startup.handshake", subject, "could not make a plugin context: "+err.Error())
		return
	}
	defer within(10*time.Second, func() { _ = pctx.Close() })

	// Start-up checks on processes of our own.
	if o.provider != "" {
		checkPortLine(rep, subject, o.provider, h.ServerAddr(), pwd, ownStderr)
		checkSigint(rep, subject, o.provider, h.ServerAddr(), pwd, ownStderr)
		checkCancelExit(rep, subject, o.provider, h.ServerAddr(), pwd, ownStderr)
	} else {
		for _, c := range []string{"startup.port_line", "startup.sigint", "startup.cancel_exit"} {
			rep.na(c, subject, "attached to a running provider and no --provider binary to start")
		}
	}

	// The provider under test, booted or attached as the engine does.
	prov, bootDetail, err := boot(o, h, pctx, subject)
	if err != nil {
		rep.fail("startup.handshake", subject, err.Error())
	} else {
		rep.pass("startup.handshake", subject, bootDetail)
	}
	r.prov = prov

	var served []byte
	if prov != nil {
		r.errTexts = nil
		resp, err := call(r, "GetSchema", func(ctx context.Context) (plugin.GetSchemaResponse, error) {
			return prov.GetSchema(ctx, plugin.GetSchemaRequest{})
		})
		if err != nil {
			rep.fail("schema.binds", subject, err.Error())
		} else {
			served = resp.Schema
			var spec schema.PackageSpec
			if err := json.Unmarshal(served, &spec); err != nil {
				rep.fail("schema.binds", subject, "served schema does not parse: "+err.Error())
			} else {
				r.spec = &spec
			}
		}
	} else {
		rep.fail("schema.binds", subject, "not run: no provider")
	}

	r.pkg = o.name
	if r.pkg == "" && r.spec != nil {
		r.pkg = r.spec.Name
	}
	// A binary not named pulumi-resource-NAME gets its subject from the
	// schema, once there is one.
	if subject == "provider" && r.spec != nil && r.spec.Name != "" {
		rep.renameSubject(subject, r.spec.Name)
		subject = r.spec.Name
	}
	if r.pkg == "" {
		r.pkg = subject
	}

	// startup.plugin_info
	switch {
	case prov == nil:
		rep.fail("startup.plugin_info", subject, "not run: no provider")
	case r.spec == nil:
		rep.fail("startup.plugin_info", subject, "not run: no served schema to compare with")
	default:
		checkPluginInfo(r, subject)
	}

	// Schema checks.
	if r.spec != nil {
		checkBinds(rep, subject, r.spec, schema.NewPluginLoader(pctx))
		checkDocumented(rep, subject, r.spec)
	} else {
		rep.fail("schema.documented", subject, "not run: no served schema")
	}
	checkMatchesCheckedIn(rep, subject, served, o.schema)

	// Fixture validity.
	skip := map[string]bool{}
	switch {
	case fixtureErr != nil:
		rep.fail("fixture.valid", fixtureSubject, fixtureErr.Error())
		fixtures = &fixtureFile{}
	default:
		problems, skipped := validateFixtures(fixtures, r.spec)
		skip = skipped
		problems = append(fixtureProblems, problems...)
		detail := fmt.Sprintf("%d resource(s), %d function(s)", len(fixtures.Resources), len(fixtures.Functions))
		if r.spec == nil {
			detail += " (not compared with a schema: none was served)"
		}
		rep.verdict("fixture.valid", fixtureSubject, problems, detail)
	}

	missing := fixtures.missingRequirements()
	switch {
	case len(missing) > 0:
		// A fixture whose backend is absent is reported, never passed.
		why := "backend absent: " + strings.Join(missing, ", ") + " unset"
		for _, c := range append(append([]string{}, configChecks...), "startup.attach_twice") {
			rep.na(c, subject, why)
		}
		for _, rf := range fixtures.Resources {
			for _, c := range resourceChecks {
				rep.na(c, rf.Key, why)
			}
		}
		for _, fn := range fixtures.Functions {
			for _, c := range functionChecks {
				rep.na(c, fn.Token, why)
			}
		}
		for _, c := range failureChecks {
			rep.na(c, subject, why)
		}
		if prov != nil {
			r.close()
		}
	case prov == nil:
		for _, c := range configChecks {
			rep.fail(c, subject, "not run: no provider")
		}
		rep.fail("startup.attach_twice", subject, "not run: no provider")
		for _, rf := range fixtures.Resources {
			for _, c := range resourceChecks {
				rep.fail(c, rf.Key, "not run: no provider")
			}
		}
		for _, fn := range fixtures.Functions {
			for _, c := range functionChecks {
				rep.fail(c, fn.Token, "not run: no provider")
			}
		}
		for _, c := range failureChecks {
			rep.fail(c, subject, "not run: no provider")
		}
	default:
		r.runConfig(subject, fixtures.Config)
		cfg, cfgErr := r.res.object(fixtures.Config)
		if o.provider != "" {
			if cfgErr != nil {
				rep.fail("config.flags", subject, "fixture config: "+cfgErr.Error())
			} else {
				checkFlags(rep, subject, o.provider, h.ServerAddr(), pwd, ownStderr, cfg)
			}
		} else {
			rep.na("config.flags", subject, "attached to a running provider: Configure's answer is "+
				"only seen on a process of the runner's own")
		}
		// With a binary, the attach check uses a process of its own, now; with
		// --attach, the same port once the main session is over.
		attachTwice := func() {
			if cfgErr != nil {
				rep.fail("startup.attach_twice", subject, "fixture config: "+cfgErr.Error())
				return
			}
			checkAttachTwice(rep, subject, r.pkg, o.provider, o.attach, pwd, ownStderr, sink, cfg,
				r.attachProbe(fixtures, skip))
		}
		if o.attach == 0 {
			attachTwice()
		}
		for _, rf := range fixtures.Resources {
			if !skip[rf.Key] {
				r.runResource(rf)
			}
		}
		for _, fn := range fixtures.Functions {
			r.runFunction(fn)
		}
		var bootAnother func() (plugin.Provider, error)
		if o.attach == 0 {
			bootAnother = func() (plugin.Provider, error) {
				p, _, err := boot(o, h, pctx, subject)
				return p, err
			}
		}
		r.runFailures(subject, fixtures.Config, bootAnother)
		r.deleteAll()
		r.close()
		if o.attach != 0 {
			attachTwice()
		}
	}

	if o.logOut != "" {
		if err := os.WriteFile(o.logOut, []byte(engineLog.String()), 0o600); err != nil {
			r.errTexts = append(r.errTexts, err.Error())
		}
	}
	secrets := sortedKeys(r.secrets)
	checkNoSecretLeak(rep, r.secrets, []haystack{
		{"engine log (Engine.Log and plugin output)", engineLog.String()},
		{"error texts", strings.Join(r.errTexts, "\n")},
		{"stderr of the runner's own provider processes", ownStderr.String()},
	})
	rep.redact(secrets)
}

// within runs f, giving up waiting for it after d.
func within(d time.Duration, f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { _ = recover() }()
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
	}
}

// boot starts the provider binary through the engine host, or attaches to a
// running one the way PULUMI_DEBUG_PROVIDERS makes the engine do.
func boot(o options, h plugin.Host, pctx *plugin.Context, subject string) (plugin.Provider, string, error) {
	type booted struct {
		prov plugin.Provider
		err  error
	}
	ch := make(chan booted, 1)
	start := time.Now()
	go func() {
		defer func() {
			if p := recover(); p != nil {
				ch <- booted{err: fmt.Errorf("boot panicked: %v", p)}
			}
		}()
		if o.attach != 0 {
			name := o.name
			if name == "" {
				name = binaryPackage(o.provider)
			}
			// The engine reads this variable when it loads a provider by name.
			if err := os.Setenv("PULUMI_DEBUG_PROVIDERS", name+":"+strconv.Itoa(o.attach)); err != nil {
				ch <- booted{err: err}
				return
			}
			p, err := h.Provider(pctx, workspace.PluginDescriptor{Name: name, Kind: apitype.ResourcePlugin}, env.Global())
			ch <- booted{p, err}
			return
		}
		p, err := h.ProviderFromPath(pctx, o.provider, env.Global())
		ch <- booted{p, err}
	}()
	select {
	case b := <-ch:
		if b.err != nil {
			return nil, "", b.err
		}
		if b.prov == nil {
			return nil, "", errors.New("the host returned no provider")
		}
		how := "started " + filepath.Base(o.provider)
		if o.attach != 0 {
			how = fmt.Sprintf("attached to 127.0.0.1:%d as %s", o.attach, subject)
		}
		return b.prov, fmt.Sprintf("%s, handshake done in %s", how, time.Since(start).Round(time.Millisecond)), nil
	case <-time.After(o.timeout):
		return nil, "", fmt.Errorf("no provider within %s", o.timeout)
	}
}

// checkPluginInfo is startup.plugin_info.
func checkPluginInfo(r *runner, subject string) {
	const check = "startup.plugin_info"
	info, err := call(r, "GetPluginInfo", func(ctx context.Context) (plugin.PluginInfo, error) {
		return r.prov.GetPluginInfo(ctx)
	})
	if err != nil {
		r.rep.fail(check, subject, err.Error())
		return
	}
	if r.spec.Version == "" {
		r.rep.fail(check, subject, "the served schema has no version to compare with")
		return
	}
	want, err := semver.ParseTolerant(r.spec.Version)
	if err != nil {
		r.rep.fail(check, subject, fmt.Sprintf("schema version %q is not semver: %v", r.spec.Version, err))
		return
	}
	if info.Version == nil {
		r.rep.fail(check, subject, "GetPluginInfo returned no version; schema says "+want.String())
		return
	}
	if !info.Version.EQ(want) {
		r.rep.fail(check, subject, fmt.Sprintf("GetPluginInfo says %s, schema says %s", info.Version, want))
		return
	}
	r.rep.pass(check, subject, "version "+want.String())
}

// attachProbe is the first fixture resource whose inputs name no other
// resource, resolved, for the attach sessions to create; nil if there is none.
func (r *runner) attachProbe(f *fixtureFile, skip map[string]bool) *attachProbe {
	for _, rf := range f.Resources {
		var refs []string
		collectRefs(rf.Inputs, &refs)
		if len(refs) > 0 || skip[rf.Key] {
			continue
		}
		inputs, err := r.res.object(rf.Inputs)
		if err != nil {
			continue
		}
		r.noteSecretMap(inputs)
		return &attachProbe{typ: rf.Type, inputs: inputs}
	}
	return nil
}

// close closes the provider as the engine does (Cancel, then SIGINT, then
// SIGKILL, and draining its output), so that everything the plugin wrote has
// reached the sink before the hygiene scan.
func (r *runner) close() {
	_, err := call(r, "Close", func(context.Context) (struct{}, error) {
		return struct{}{}, r.prov.Close()
	})
	if err != nil {
		r.errTexts = append(r.errTexts, err.Error())
	}
}
