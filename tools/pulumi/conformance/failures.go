package main

// The failure contract: what a provider must do when things go wrong, each
// provoked by a fixture's "panic", "initFailure" or "slow" entry.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/pulumi/pulumi/pkg/v3/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil/rpcerror"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"google.golang.org/grpc/codes"
)

var failureChecks = []string{"failure.panic_contained", "failure.init_failed", "failure.cancel_prompt"}

// How long after Cancel an operation may take to end. The engine waits for
// operations in flight without a limit; a user at the terminal does not.
const cancelGrace = 15 * time.Second

// runFailures runs the failure contract for every resource that provokes a
// situation; a situation no fixture provokes is n/a for the whole provider.
// bootAnother starts a second provider process (nil when attached), for the
// cancellation check, which leaves the provider it cancels unusable.
func (r *runner) runFailures(subject string, cfg map[string]any,
	bootAnother func() (plugin.Provider, error),
) {
	provoked := map[string]bool{}
	for _, st := range r.states {
		fx := st.fx
		if fx.Panic != nil {
			provoked["failure.panic_contained"] = true
			r.panicContained(st, fx.Panic)
		}
		if fx.InitFailure != nil {
			provoked["failure.init_failed"] = true
			r.initFailed(st, fx.InitFailure)
		}
		if fx.Slow != nil {
			provoked["failure.cancel_prompt"] = true
			r.cancelPrompt(st, fx.Slow, cfg, bootAnother)
		}
	}
	why := map[string]string{
		"failure.panic_contained": "no fixture entry provokes a panic (the provider exposes no way to)",
		"failure.init_failed":     "no fixture entry provokes a create that fails half-way",
		"failure.cancel_prompt":   "no fixture entry provokes a slow create",
	}
	for _, c := range failureChecks {
		if !provoked[c] {
			r.rep.na(c, subject, why[c])
		}
	}
}

// provoke makes the arranging requests and resolves the provoking inputs.
func (r *runner) provoke(st *resourceState, p *provocation) (property.Map, error) {
	for i, req := range p.Arrange {
		if err := arrange(req); err != nil {
			return property.Map{}, fmt.Errorf("arrange request %d: %w", i+1, err)
		}
	}
	news, err := r.res.object(overlay(st.fx.Inputs, p.Inputs))
	if err != nil {
		return property.Map{}, fmt.Errorf("fixture inputs: %w", err)
	}
	return news, nil
}

// arrange makes one arranging HTTP request, which must answer 2xx.
func arrange(req arrangeRequest) error {
	rawURL, err := plainJSON(req.URL)
	if err != nil {
		return err
	}
	url, ok := rawURL.(string)
	if !ok || url == "" {
		return errors.New("url must be a string")
	}
	var body io.Reader
	if req.Body != nil {
		plain, err := plainJSON(req.Body)
		if err != nil {
			return err
		}
		data, err := json.Marshal(plain)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	hreq, err := http.NewRequest(req.Method, url, body)
	if err != nil {
		return err
	}
	hreq.Header.Set("Content-Type", "application/json")
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(hreq)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s answered %d: %s", req.Method, url, resp.StatusCode, strings.TrimSpace(string(text)))
	}
	return nil
}

// provokedState is a resource of the same type under its own URN, so that
// what the provocation makes is never confused with the fixture's resource.
func provokedState(st *resourceState, suffix string) *resourceState {
	urn := resource.NewURN(stackName, projectName, "", st.urn.Type(), st.urn.Name()+"-"+suffix)
	return &resourceState{fx: st.fx, urn: urn}
}

// rpcCode is the gRPC code of a provider call's error.
func rpcCode(err error) codes.Code {
	var rerr *rpcerror.Error
	if errors.As(err, &rerr) {
		return rerr.Code()
	}
	return codes.Unknown
}

// panicContained is failure.panic_contained: Check with inputs that make the
// provider panic must fail with an error the provider sent, and the plugin
// must go on answering.
func (r *runner) panicContained(st *resourceState, p *provocation) {
	const check = "failure.panic_contained"
	subj := st.fx.Key
	news, err := r.provoke(st, p)
	if err != nil {
		r.rep.fail(check, subj, err.Error())
		return
	}
	pst := provokedState(st, "panic")
	_, err = r.check(pst, property.Map{}, news, property.Map{}, false)
	var problems []string
	switch {
	case err == nil:
		problems = append(problems, "Check did not fail: the fixture's panic inputs provoke no panic")
	default:
		code := rpcCode(err)
		text := err.Error()
		switch {
		case code == codes.Unavailable || code == codes.Canceled:
			problems = append(problems, fmt.Sprintf("the call ended with %s (%s): the panic escaped the "+
				"handler instead of coming back as the call's error", code, clip(text, 120)))
		case strings.Contains(text, "RST_STREAM"):
			problems = append(problems, "the call's stream was reset ("+clip(text, 120)+"): the panic "+
				"escaped the handler and the engine gets no error text")
		}
	}
	if _, ierr := call(r, "GetPluginInfo", func(ctx context.Context) (plugin.PluginInfo, error) {
		return r.prov.GetPluginInfo(ctx)
	}); ierr != nil {
		problems = append(problems, "the plugin no longer answers after the panic: "+ierr.Error())
	}
	detail := ""
	if err != nil {
		detail = fmt.Sprintf("Check failed with %s and the plugin still answers", rpcCode(err))
	}
	r.rep.verdict(check, subj, problems, detail)
}

// initFailed is failure.init_failed: a Create that fails after the backend
// made the resource returns ErrorResourceInitFailed with its id and state, so
// the engine keeps it; Read then finds it, and Delete removes it.
func (r *runner) initFailed(st *resourceState, p *provocation) {
	const check = "failure.init_failed"
	subj := st.fx.Key
	news, err := r.provoke(st, p)
	if err != nil {
		r.rep.fail(check, subj, err.Error())
		return
	}
	pst := provokedState(st, "init-failure")
	checked, err := r.checkedForCreate(pst, news)
	if err != nil {
		r.rep.fail(check, subj, err.Error())
		return
	}
	out, err := call(r, "Create", func(ctx context.Context) (plugin.CreateResponse, error) {
		return r.prov.Create(ctx, plugin.CreateRequest{URN: pst.urn, Properties: checked})
	})
	r.noteSecretMap(out.Properties)
	var initErr *plugin.InitError
	var problems []string
	switch {
	case err == nil:
		problems = append(problems, "Create succeeded: the fixture's initFailure provokes no failure")
	case !errors.As(err, &initErr):
		problems = append(problems, "Create failed without ErrorResourceInitFailed, so the engine "+
			"forgets what it made: "+clip(err.Error(), 160))
	case out.ID == "":
		problems = append(problems, "ErrorResourceInitFailed without an id")
	case out.Properties.Len() == 0:
		problems = append(problems, "ErrorResourceInitFailed without the resource's state")
	}
	detail := ""
	if out.ID != "" {
		pst.id, pst.inputs, pst.outputs = out.ID, checked, out.Properties
		if len(problems) == 0 {
			read, rerr := call(r, "Read", func(ctx context.Context) (plugin.ReadResponse, error) {
				return r.prov.Read(ctx, plugin.ReadRequest{URN: pst.urn, ID: pst.id, Inputs: pst.inputs,
					State: pst.outputs})
			})
			switch {
			case rerr != nil:
				problems = append(problems, "Read of the half-made resource failed: "+rerr.Error())
			case read.ID == "":
				problems = append(problems, "Read does not find the resource the failed Create kept")
			}
		}
		if _, derr := call(r, "Delete", func(ctx context.Context) (plugin.DeleteResponse, error) {
			return r.prov.Delete(ctx, plugin.DeleteRequest{URN: pst.urn, ID: pst.id, Inputs: pst.inputs,
				Outputs: pst.outputs})
		}); derr != nil {
			problems = append(problems, "Delete of the half-made resource failed: "+derr.Error())
		}
		detail = fmt.Sprintf("kept id %s with %d output(s); Read found it and Delete removed it",
			clip(string(out.ID), 40), out.Properties.Len())
	}
	r.rep.verdict(check, subj, problems, detail)
}

// checkedForCreate runs news through Check as a new resource's registration.
func (r *runner) checkedForCreate(st *resourceState, news property.Map) (property.Map, error) {
	resp, err := r.check(st, property.Map{}, news, property.Map{}, false)
	if err != nil {
		return property.Map{}, err
	}
	if len(resp.Failures) > 0 {
		return property.Map{}, errors.New("Check failures: " + failureText(resp.Failures))
	}
	return resp.Properties, nil
}

// cancelPrompt is failure.cancel_prompt: a slow Create on a provider of its
// own is cancelled with the engine's Cancel and must end within cancelGrace.
func (r *runner) cancelPrompt(st *resourceState, p *provocation, cfg map[string]any,
	bootAnother func() (plugin.Provider, error),
) {
	const check = "failure.cancel_prompt"
	subj := st.fx.Key
	if bootAnother == nil {
		r.rep.na(check, subj, "attached to a running provider: Cancel would leave it unusable for the rest")
		return
	}
	other, err := bootAnother()
	if err != nil {
		r.rep.fail(check, subj, "could not start a second provider: "+err.Error())
		return
	}
	defer within(10*time.Second, func() { _ = other.Close() })
	main := r.prov
	r.prov = other
	err = r.configure(cfg)
	r.prov = main
	if err != nil {
		r.rep.fail(check, subj, "configuring the second provider: "+err.Error())
		return
	}
	news, err := r.provoke(st, p)
	if err != nil {
		r.rep.fail(check, subj, err.Error())
		return
	}
	pst := provokedState(st, "slow")
	checked, err := r.checkedForCreate(pst, news)
	if err != nil {
		r.rep.fail(check, subj, err.Error())
		return
	}

	type outcome struct {
		resp plugin.CreateResponse
		err  error
	}
	done := make(chan outcome, 1)
	ctx, stop := context.WithTimeout(context.Background(), 3*time.Minute)
	defer stop()
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- outcome{err: fmt.Errorf("Create panicked: %v", p)}
			}
		}()
		resp, err := other.Create(ctx, plugin.CreateRequest{URN: pst.urn, Properties: checked})
		done <- outcome{resp, err}
	}()

	var o outcome
	cleanup := func() {
		r.noteSecretMap(o.resp.Properties)
		if o.err != nil {
			r.errTexts = append(r.errTexts, o.err.Error())
		}
		if o.resp.ID == "" {
			return
		}
		// What the cancelled Create kept is removed with the main provider.
		_, _ = call(r, "Delete", func(ctx context.Context) (plugin.DeleteResponse, error) {
			return r.prov.Delete(ctx, plugin.DeleteRequest{URN: pst.urn, ID: o.resp.ID, Inputs: checked,
				Outputs: o.resp.Properties})
		})
	}
	select {
	case o = <-done:
		cleanup()
		r.rep.fail(check, subj, "Create ended within 2 s, before any Cancel: the fixture's slow inputs are not slow")
		return
	case <-time.After(2 * time.Second):
	}
	sent := time.Now()
	if _, err := call(r, "Cancel", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, other.SignalCancellation(ctx)
	}); err != nil {
		r.rep.fail(check, subj, err.Error())
		return
	}
	select {
	case o = <-done:
		took := time.Since(sent).Round(100 * time.Millisecond)
		cleanup()
		how := "succeeded"
		if o.err != nil {
			how = "failed: " + clip(o.err.Error(), 100)
		}
		r.rep.pass(check, subj, fmt.Sprintf("Create ended %s after Cancel (%s)", took, how))
	case <-time.After(cancelGrace):
		r.rep.fail(check, subj, fmt.Sprintf("Create still running %s after Cancel", cancelGrace))
		stop()
		select {
		case o = <-done:
			cleanup()
		case <-time.After(5 * time.Second):
		}
	}
}
