package main

// Checks that need provider processes of the runner's own, talked to over the
// raw protocol (the engine's client hides Configure's answer and Cancel's
// effect on the process) or attached to as PULUMI_DEBUG_PROVIDERS does.

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/pkg/v3/host"
	"github.com/pulumi/pulumi/pkg/v3/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/env"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// serving is a provider process of the runner's own that has announced its
// port and accepts connections on it.
type serving struct {
	*ownProcess
	port int
}

// startServing starts binary with the given arguments and waits for its
// port line and for the port to accept connections.
func startServing(binary string, args []string, dir string, stderr io.Writer) (*serving, error) {
	p, err := startOwnArgs(binary, args, dir, stderr)
	if err != nil {
		return nil, fmt.Errorf("could not start %s: %w", binary, err)
	}
	line, complete, err := p.firstLine(10 * time.Second)
	if !complete {
		p.kill()
		return nil, fmt.Errorf("no port line: %v", err)
	}
	port, err := strictPort(line)
	if err != nil {
		p.kill()
		return nil, fmt.Errorf("first stdout line %q: %v", clip(line, 80), err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 200*time.Millisecond)
		if err == nil {
			_ = conn.Close()
			return &serving{p, port}, nil
		}
		if time.Now().After(deadline) {
			p.kill()
			return nil, fmt.Errorf("port %d accepts no connections: %v", port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// client dials the process's port with the raw protocol.
func (s *serving) client() (pulumirpc.ResourceProviderClient, func(), error) {
	conn, err := grpc.NewClient(net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, nil, err
	}
	return pulumirpc.NewResourceProviderClient(conn), func() { _ = conn.Close() }, nil
}

// checkCancelExit is startup.cancel_exit: once the engine's Cancel has been
// acknowledged, the engine closes the plugin (SIGINT to its process group, then
// SIGKILL 5 s later), and the plugin must be gone before the SIGKILL.
func checkCancelExit(rep *report, subject, binary, engineAddr, dir string, stderr io.Writer) {
	const check = "startup.cancel_exit"
	s, err := startServing(binary, []string{engineAddr}, dir, stderr)
	if err != nil {
		rep.fail(check, subject, err.Error())
		return
	}
	defer s.kill()
	client, closeConn, err := s.client()
	if err != nil {
		rep.fail(check, subject, err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_, err = client.Cancel(ctx, &emptypb.Empty{})
	cancel()
	closeConn()
	if code := status.Code(err); code != codes.OK && code != codes.Unimplemented {
		rep.fail(check, subject, fmt.Sprintf("Cancel answered %s (%v); the engine then takes the "+
			"plugin's exit for a crash", code, err))
		return
	}
	time.Sleep(200 * time.Millisecond)
	select {
	case <-s.exited:
		rep.pass(check, subject, "exited on its own after Cancel ("+exitText(s.waitErr)+")")
		return
	default:
	}
	sent := time.Now()
	if err := syscall.Kill(-s.cmd.Process.Pid, syscall.SIGINT); err != nil {
		rep.fail(check, subject, "could not send SIGINT: "+err.Error())
		return
	}
	select {
	case <-s.exited:
		rep.pass(check, subject, fmt.Sprintf("Cancel acknowledged; exited %s after SIGINT (%s)",
			time.Since(sent).Round(time.Millisecond), exitText(s.waitErr)))
	case <-time.After(5 * time.Second):
		rep.fail(check, subject, "still running 5 s after Cancel and SIGINT; the engine would SIGKILL it")
	}
}

// checkFlags is config.flags: Configure, asked as the engine asks (it accepts
// secrets and resource references), must answer that the provider accepts
// secrets and supports preview. Without acceptSecrets the engine strips every
// secret before sending it and guesses which outputs to re-mark; without
// supportsPreview it never sends a preview Create, so previews show no
// computed outputs.
func checkFlags(rep *report, subject, binary, engineAddr, dir string, stderr io.Writer, cfg property.Map) {
	const check = "config.flags"
	s, err := startServing(binary, []string{engineAddr}, dir, stderr)
	if err != nil {
		rep.fail(check, subject, err.Error())
		return
	}
	defer s.kill()
	client, closeConn, err := s.client()
	if err != nil {
		rep.fail(check, subject, err.Error())
		return
	}
	defer closeConn()
	args, err := plugin.MarshalProperties(resource.ToResourcePropertyMap(cfg),
		plugin.MarshalOptions{KeepSecrets: true, KeepUnknowns: true})
	if err != nil {
		rep.fail(check, subject, "marshalling the fixture's config: "+err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := client.Configure(ctx, &pulumirpc.ConfigureRequest{
		Args: args, AcceptSecrets: true, AcceptResources: true,
	})
	if err != nil {
		rep.fail(check, subject, "Configure: "+err.Error())
		return
	}
	var problems []string
	if !resp.GetAcceptSecrets() {
		problems = append(problems, "acceptSecrets is false: the engine strips secrets before every call")
	}
	if !resp.GetSupportsPreview() {
		problems = append(problems, "supportsPreview is false: the engine skips preview Creates and Updates")
	}
	rep.verdict(check, subject, problems, fmt.Sprintf("acceptSecrets %v, supportsPreview %v, acceptResources %v",
		resp.GetAcceptSecrets(), resp.GetSupportsPreview(), resp.GetAcceptResources()))
}

// checkAttachTwice is startup.attach_twice: a provider started by hand for
// PULUMI_DEBUG_PROVIDERS serves one engine session after another (each
// `pulumi up` attaches, handshakes, configures and disconnects). With a
// binary, the runner starts one without the engine's address, as a user
// would; with --attach, it reuses the given port after the main session.
//
// Each session also creates and deletes probe (a fixture resource that needs
// no other), so a provider that stays cancelled after the previous session's
// closing Cancel fails here.
func checkAttachTwice(rep *report, subject, name, binary string, attachPort int, dir string,
	stderr io.Writer, sink diag.Sink, cfg property.Map, probe *attachProbe,
) {
	const check = "startup.attach_twice"
	port := attachPort
	if binary != "" && attachPort == 0 {
		s, err := startServing(binary, nil, dir, stderr)
		if err != nil {
			rep.fail(check, subject, err.Error())
			return
		}
		defer s.kill()
		port = s.port
	}
	old, had := os.LookupEnv("PULUMI_DEBUG_PROVIDERS")
	defer func() {
		if had {
			_ = os.Setenv("PULUMI_DEBUG_PROVIDERS", old)
		} else {
			_ = os.Unsetenv("PULUMI_DEBUG_PROVIDERS")
		}
	}()
	if err := os.Setenv("PULUMI_DEBUG_PROVIDERS", name+":"+strconv.Itoa(port)); err != nil {
		rep.fail(check, subject, err.Error())
		return
	}
	for session := 1; session <= 2; session++ {
		if err := attachSession(name, sink, cfg, probe, session); err != nil {
			rep.fail(check, subject, fmt.Sprintf("session %d: %v", session, err))
			return
		}
	}
	did := "configured"
	if probe != nil {
		did += ", " + probe.typ + " created and deleted"
	}
	rep.pass(check, subject, fmt.Sprintf("two sessions on 127.0.0.1:%d, each %s", port, did))
}

// attachProbe is the resource each attach session creates and deletes.
type attachProbe struct {
	typ    string
	inputs property.Map
}

// attachSession is one engine session against an attached provider: a host
// of its own, the engine's boot, CheckConfig, Configure, GetPluginInfo, close.
func attachSession(name string, sink diag.Sink, cfg property.Map, probe *attachProbe, session int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	h, err := host.New(ctx, sink, sink, nil, nil, nil, nil, nil)
	if err != nil {
		return fmt.Errorf("engine host: %w", err)
	}
	defer within(10*time.Second, func() { _ = h.Close() })
	pwd, _ := os.Getwd()
	pctx, err := plugin.NewContextWithHost(ctx, sink, sink, h, pwd, pwd, nil, nil)
	if err != nil {
		return fmt.Errorf("plugin context: %w", err)
	}
	defer within(10*time.Second, func() { _ = pctx.Close() })
	prov, err := h.Provider(pctx, workspace.PluginDescriptor{Name: name, Kind: apitype.ResourcePlugin}, env.Global())
	if err != nil {
		return fmt.Errorf("attach: %w", err)
	}
	defer within(10*time.Second, func() { _ = prov.Close() })
	if err := configureProvider(ctx, prov, name, cfg); err != nil {
		return err
	}
	if _, err := prov.GetPluginInfo(ctx); err != nil {
		return fmt.Errorf("GetPluginInfo: %w", err)
	}
	if probe == nil {
		return nil
	}
	urn := resource.NewURN(stackName, projectName, "", tokens.Type(probe.typ), fmt.Sprintf("attach-%d", session))
	checked, err := prov.Check(ctx, plugin.CheckRequest{URN: urn, NewInputs: probe.inputs, RandomSeed: seedFor(urn)})
	if err != nil {
		return fmt.Errorf("Check: %w", err)
	}
	if len(checked.Failures) > 0 {
		return fmt.Errorf("Check failures: %s", failureText(checked.Failures))
	}
	made, err := prov.Create(ctx, plugin.CreateRequest{URN: urn, Properties: checked.Properties})
	if err != nil {
		return fmt.Errorf("Create: %w", err)
	}
	if _, err := prov.Delete(ctx, plugin.DeleteRequest{URN: urn, ID: made.ID, Inputs: checked.Properties,
		Outputs: made.Properties}); err != nil {
		return fmt.Errorf("Delete: %w", err)
	}
	return nil
}

// configureProvider runs CheckConfig and Configure as the engine does for a
// default provider, failing on any CheckConfig failure.
func configureProvider(ctx context.Context, prov plugin.Provider, pkg string, cfg property.Map) error {
	urn := providerURN(pkg)
	resp, err := prov.CheckConfig(ctx, plugin.CheckConfigRequest{URN: urn, Olds: property.Map{}, News: cfg})
	if err != nil {
		return fmt.Errorf("CheckConfig: %w", err)
	}
	if len(resp.Failures) > 0 {
		return fmt.Errorf("CheckConfig failures: %s", failureText(resp.Failures))
	}
	name := urn.Name()
	typ := urn.Type()
	id := resource.ID("00000000-0000-4000-8000-000000000000")
	if _, err := prov.Configure(ctx, plugin.ConfigureRequest{
		URN: &urn, Name: &name, Type: &typ, ID: &id, Inputs: resp.Properties,
	}); err != nil {
		return fmt.Errorf("Configure: %w", err)
	}
	return nil
}
