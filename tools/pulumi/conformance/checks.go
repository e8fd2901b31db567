package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/pkg/v3/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

// The stack and project every URN the runner sends is made in.
const (
	stackName   = "conformance"
	projectName = "conformance"
)

// The checks run for each resource of the fixture, in order; the last two
// run in the deletion phase.
var resourceChecks = []string{
	"check.valid", "check.idempotent", "check.secrets_kept", "check.unknowns_kept", "check.invalid",
	"create.preview", "lifecycle.create", "lifecycle.outputs_secret", "lifecycle.outputs_typed",
	"diff.identical", "diff.replaces_exactly", "diff.update_in_place", "lifecycle.read",
	"lifecycle.delete", "lifecycle.read_after_delete",
}

// The provider-level config checks, in order.
var configChecks = []string{
	"config.check_configure", "config.unknowns_kept", "config.diff_identical", "config.json_strings",
	"config.flags",
}

// The checks run for each function of the fixture.
var functionChecks = []string{"invoke.known", "invoke.secret_results"}

// runner holds what the checks share: the provider under test, the served
// schema, what the resources returned, and everything the hygiene check scans.
type runner struct {
	rep     *report
	prov    plugin.Provider
	spec    *schema.PackageSpec // nil when the schema could not be loaded
	pkg     string              // package name, for the provider's URN and type
	timeout time.Duration

	res    *resolver
	states []*resourceState // created (or attempted) resources, in fixture order

	// For hygiene.no_secret_leak.
	errTexts []string
	secrets  map[string]bool
}

type resourceState struct {
	fx      *resourceFixture
	urn     resource.URN
	id      resource.ID
	inputs  property.Map // the checked inputs recorded for the resource
	outputs property.Map
	created bool
	blocked string // why the rest of its checks cannot run, when they cannot
}

// call runs one provider call with the runner's time limit, turning a panic
// (the plugin package asserts on malformed requests) into an error, and
// remembering the error's text for the hygiene check.
func call[T any](r *runner, what string, f func(ctx context.Context) (T, error)) (T, error) {
	type outcome struct {
		v   T
		err error
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	ch := make(chan outcome, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				ch <- outcome{err: fmt.Errorf("%s panicked: %v", what, p)}
			}
		}()
		v, err := f(ctx)
		ch <- outcome{v, err}
	}()
	var zero T
	select {
	case o := <-ch:
		if o.err != nil {
			r.errTexts = append(r.errTexts, o.err.Error())
			return o.v, fmt.Errorf("%s: %w", what, o.err)
		}
		return o.v, nil
	case <-time.After(r.timeout):
		return zero, fmt.Errorf("%s: no answer within %s", what, r.timeout)
	}
}

// noteSecrets remembers every string of 8 or more characters inside a secret
// value, for the hygiene check.
func (r *runner) noteSecrets(v property.Value) {
	var walk func(v property.Value, secret bool)
	walk = func(v property.Value, secret bool) {
		secret = secret || v.Secret()
		switch {
		case v.IsString():
			if secret && len(v.AsString()) >= 8 {
				r.secrets[v.AsString()] = true
			}
		case v.IsArray():
			for _, e := range v.AsArray().AsSlice() {
				walk(e, secret)
			}
		case v.IsMap():
			for _, e := range v.AsMap().All {
				walk(e, secret)
			}
		}
	}
	walk(v, false)
}

func (r *runner) noteSecretMap(m property.Map) { r.noteSecrets(property.New(m)) }

func (r *runner) noteFailures(fs []plugin.CheckFailure) {
	for _, f := range fs {
		r.errTexts = append(r.errTexts, f.Reason)
	}
}

func failureText(fs []plugin.CheckFailure) string {
	parts := make([]string, 0, len(fs))
	for _, f := range fs {
		parts = append(parts, fmt.Sprintf("%s: %s", f.Property, f.Reason))
	}
	return summarize(parts, 4)
}

func seedFor(urn resource.URN) []byte {
	sum := sha256.Sum256([]byte(urn))
	return sum[:]
}

func (r *runner) providerURN() resource.URN { return providerURN(r.pkg) }

// providerURN is the URN of pkg's default provider in the runner's stack.
func providerURN(pkg string) resource.URN {
	return resource.NewURN(stackName, projectName, "", tokens.Type("pulumi:providers:"+pkg), "default")
}

// configure runs the fixture's config through CheckConfig and Configure on
// r.prov, as a fresh engine session would.
func (r *runner) configure(cfg map[string]any) error {
	inputs, err := r.res.object(cfg)
	if err != nil {
		return fmt.Errorf("fixture config: %w", err)
	}
	_, err = call(r, "Configure", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, configureProvider(ctx, r.prov, r.pkg, inputs)
	})
	return err
}

// ---------------------------------------------------------------------------
// config

func (r *runner) runConfig(subject string, cfg map[string]any) {
	const check = "config.check_configure"
	var problems []string
	inputs, err := r.res.object(cfg)
	if err != nil {
		problems = append(problems, "fixture config: "+err.Error())
		inputs = property.Map{}
	}
	r.noteSecretMap(inputs)
	urn := r.providerURN()
	resp, err := call(r, "CheckConfig", func(ctx context.Context) (plugin.CheckConfigResponse, error) {
		return r.prov.CheckConfig(ctx, plugin.CheckConfigRequest{
			URN: urn, Olds: property.Map{}, News: inputs,
		})
	})
	switch {
	case err != nil:
		problems = append(problems, err.Error())
	case len(resp.Failures) > 0:
		r.noteFailures(resp.Failures)
		problems = append(problems, "CheckConfig failures: "+failureText(resp.Failures))
	default:
		inputs = resp.Properties
	}
	r.configUnknownsKept(subject, urn, inputs)
	r.configDiffIdentical(subject, urn, inputs)
	// Configure runs whatever CheckConfig said: the plugin layer holds every
	// later call until Configure has settled the provider's configuration.
	name := urn.Name()
	typ := urn.Type()
	id := resource.ID("00000000-0000-4000-8000-000000000000")
	_, err = call(r, "Configure", func(ctx context.Context) (plugin.ConfigureResponse, error) {
		return r.prov.Configure(ctx, plugin.ConfigureRequest{
			URN: &urn, Name: &name, Type: &typ, ID: &id, Inputs: inputs,
		})
	})
	if err != nil {
		problems = append(problems, err.Error())
	}
	r.rep.verdict(check, subject, problems, fmt.Sprintf("%d config value(s) accepted", inputs.Len()))
	r.configJSONStrings(subject, urn, inputs)
}

// configJSONStrings is config.json_strings: stack config reaches a default
// provider as text, so a boolean, number or object arrives as its JSON
// encoding in a string. CheckConfig must accept that and give back the typed
// value it would have given for the typed input.
func (r *runner) configJSONStrings(subject string, urn resource.URN, checked property.Map) {
	const check = "config.json_strings"
	asText := property.Map{}
	var keys []string
	for k, v := range checked.All {
		plain, ok := plainValue(v)
		if ok && !v.IsString() && !v.IsNull() {
			text, err := json.Marshal(plain)
			if err == nil {
				v = property.New(string(text)).WithSecret(v.Secret())
				keys = append(keys, k)
			}
		}
		asText = asText.Set(k, v)
	}
	if len(keys) == 0 {
		r.rep.na(check, subject, "the fixture sets no boolean, number or object config value")
		return
	}
	sort.Strings(keys)
	resp, err := call(r, "CheckConfig", func(ctx context.Context) (plugin.CheckConfigResponse, error) {
		return r.prov.CheckConfig(ctx, plugin.CheckConfigRequest{URN: urn, Olds: property.Map{}, News: asText})
	})
	switch {
	case err != nil:
		r.rep.fail(check, subject, err.Error())
	case len(resp.Failures) > 0:
		r.noteFailures(resp.Failures)
		r.rep.fail(check, subject, "CheckConfig failed on JSON-string values: "+failureText(resp.Failures))
	default:
		var problems []string
		for _, k := range keys {
			// More secret than the typed value is fine (a settings object whose
			// secret fields cannot be told apart in the text may be kept whole as
			// a secret); less secret is not.
			got, want := resp.Properties.Get(k), checked.Get(k)
			gotPlain, _ := plainValue(unsecret(got))
			wantPlain, _ := plainValue(unsecret(want))
			switch {
			case got.IsComputed() || !reflect.DeepEqual(gotPlain, wantPlain):
				problems = append(problems, fmt.Sprintf("%s came back as %s, not as the typed value", k, kindOf(got)))
			case want.Secret() && !got.Secret():
				problems = append(problems, k+" lost its secret mark")
			}
		}
		r.rep.verdict(check, subject, problems, "typed again: "+strings.Join(keys, ", "))
	}
}

// unsecret is v without any secret mark, at any depth.
func unsecret(v property.Value) property.Value {
	v = v.WithSecret(false)
	switch {
	case v.IsArray():
		items := []property.Value{}
		for _, e := range v.AsArray().AsSlice() {
			items = append(items, unsecret(e))
		}
		return property.New(items)
	case v.IsMap():
		m := map[string]property.Value{}
		for k, e := range v.AsMap().All {
			m[k] = unsecret(e)
		}
		return property.New(m)
	}
	return v
}

// plainValue is v as plain JSON data, if it is fully known.
func plainValue(v property.Value) (any, bool) {
	switch {
	case v.IsComputed():
		return nil, false
	case v.IsNull():
		return nil, true
	case v.IsBool():
		return v.AsBool(), true
	case v.IsNumber():
		return v.AsNumber(), true
	case v.IsString():
		return v.AsString(), true
	case v.IsArray():
		var out []any
		for _, e := range v.AsArray().AsSlice() {
			pe, ok := plainValue(e)
			if !ok {
				return nil, false
			}
			out = append(out, pe)
		}
		return out, true
	case v.IsMap():
		out := map[string]any{}
		for k, e := range v.AsMap().All {
			pe, ok := plainValue(e)
			if !ok {
				return nil, false
			}
			out[k] = pe
		}
		return out, true
	default:
		return nil, false
	}
}

// configUnknownsKept is config.unknowns_kept: in a preview, config values that
// come from resources not yet created are unknown; CheckConfig must accept them
// and keep them unknown.
func (r *runner) configUnknownsKept(subject string, urn resource.URN, checked property.Map) {
	const check = "config.unknowns_kept"
	if checked.Len() == 0 {
		r.rep.na(check, subject, "the fixture sets no config value")
		return
	}
	unknown := property.Map{}
	var keys []string
	for k := range checked.All {
		unknown = unknown.Set(k, property.New(property.Computed))
		keys = append(keys, k)
	}
	sort.Strings(keys)
	resp, err := call(r, "CheckConfig", func(ctx context.Context) (plugin.CheckConfigResponse, error) {
		return r.prov.CheckConfig(ctx, plugin.CheckConfigRequest{
			URN: urn, Olds: property.Map{}, News: unknown, AllowUnknowns: true,
		})
	})
	switch {
	case err != nil:
		r.rep.fail(check, subject, err.Error())
	case len(resp.Failures) > 0:
		r.rep.fail(check, subject, "CheckConfig failed on unknown values: "+failureText(resp.Failures))
	default:
		var problems []string
		for _, k := range keys {
			if v, ok := resp.Properties.GetOk(k); !ok || !v.IsComputed() {
				problems = append(problems, k+" is no longer unknown")
			}
		}
		r.rep.verdict(check, subject, problems, "still unknown: "+strings.Join(keys, ", "))
	}
}

// configDiffIdentical is config.diff_identical: DiffConfig of an unchanged
// configuration reports no change, or the engine would replace the provider
// and with it every resource it manages.
func (r *runner) configDiffIdentical(subject string, urn resource.URN, checked property.Map) {
	const check = "config.diff_identical"
	d, err := call(r, "DiffConfig", func(ctx context.Context) (plugin.DiffConfigResponse, error) {
		return r.prov.DiffConfig(ctx, plugin.DiffConfigRequest{
			URN: urn, OldInputs: checked, OldOutputs: checked, NewInputs: checked,
		})
	})
	switch {
	case err != nil:
		r.rep.fail(check, subject, err.Error())
	case d.Changes == plugin.DiffSome || d.Replace():
		r.rep.fail(check, subject, "unchanged config: "+describeDiff(d))
	default:
		r.rep.pass(check, subject, "no change")
	}
}

// ---------------------------------------------------------------------------
// resources, first phase: everything up to Read

func (r *runner) resourceSpec(typ string) (schema.ResourceSpec, bool) {
	if r.spec == nil {
		return schema.ResourceSpec{}, false
	}
	rs, ok := r.spec.Resources[typ]
	return rs, ok
}

// blockedCheck records a check that cannot run because an earlier one failed.
func (r *runner) blockedCheck(check string, st *resourceState) {
	r.rep.fail(check, st.fx.Key, "not run: "+st.blocked)
}

func (r *runner) check(st *resourceState, olds, news, oldOutputs property.Map, allowUnknowns bool,
) (plugin.CheckResponse, error) {
	r.noteSecretMap(news)
	resp, err := call(r, "Check", func(ctx context.Context) (plugin.CheckResponse, error) {
		return r.prov.Check(ctx, plugin.CheckRequest{
			URN:           st.urn,
			OldInputs:     olds,
			NewInputs:     news,
			OldOutputs:    oldOutputs,
			AllowUnknowns: allowUnknowns,
			RandomSeed:    seedFor(st.urn),
		})
	})
	if err == nil {
		r.noteFailures(resp.Failures)
		r.noteSecretMap(resp.Properties)
	}
	return resp, err
}

func (r *runner) diff(st *resourceState, news property.Map) (plugin.DiffResponse, error) {
	return call(r, "Diff", func(ctx context.Context) (plugin.DiffResponse, error) {
		return r.prov.Diff(ctx, plugin.DiffRequest{
			URN:        st.urn,
			ID:         st.id,
			OldInputs:  st.inputs,
			OldOutputs: st.outputs,
			NewInputs:  news,
		})
	})
}

// checkedNews resolves fixture inputs and runs them through Check as an
// update of the created resource would (olds, old outputs, no unknowns).
// checkedDiff re-Checks raw inputs as an update would, then diffs them against st's state.
func (r *runner) checkedDiff(st *resourceState, raw map[string]any) (property.Map, plugin.DiffResponse, error) {
	news, err := r.checkedNews(st, raw)
	if err != nil {
		return news, plugin.DiffResponse{}, err
	}
	d, err := r.diff(st, news)
	return news, d, err
}

func (r *runner) checkedNews(st *resourceState, raw map[string]any) (property.Map, error) {
	news, err := r.res.object(raw)
	if err != nil {
		return property.Map{}, fmt.Errorf("fixture inputs: %w", err)
	}
	resp, err := r.check(st, st.inputs, news, st.outputs, false)
	if err != nil {
		return property.Map{}, err
	}
	if len(resp.Failures) > 0 {
		return property.Map{}, errors.New("Check failures: " + failureText(resp.Failures))
	}
	return resp.Properties, nil
}

func (r *runner) runResource(fx *resourceFixture) {
	subj := fx.Key
	name := fx.Key
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		name = name[i+1:]
	}
	// A label becomes part of the resource name, so two entries of one type get two URNs.
	name = strings.ReplaceAll(name, "#", "-")
	st := &resourceState{
		fx:  fx,
		urn: resource.NewURN(stackName, projectName, "", tokens.Type(fx.Type), "conformance-"+strings.ToLower(name)),
	}
	r.states = append(r.states, st)
	rs, hasSpec := r.resourceSpec(fx.Type)

	news, err := r.res.object(fx.Inputs)
	if err != nil {
		st.blocked = "fixture inputs unavailable: " + err.Error()
		for _, c := range resourceChecks[:len(resourceChecks)-2] {
			r.blockedCheck(c, st)
		}
		return
	}

	// check.valid
	var checked property.Map
	resp, err := r.check(st, property.Map{}, news, property.Map{}, false)
	switch {
	case err != nil:
		r.rep.fail("check.valid", subj, err.Error())
		st.blocked = "check.valid failed"
	case len(resp.Failures) > 0:
		r.rep.fail("check.valid", subj, "failures: "+failureText(resp.Failures))
		st.blocked = "check.valid failed"
	default:
		checked = resp.Properties
		r.rep.pass("check.valid", subj, fmt.Sprintf("%d input(s) in, %d out", news.Len(), checked.Len()))
	}

	// check.idempotent
	if st.blocked != "" {
		r.blockedCheck("check.idempotent", st)
	} else {
		again, err := r.check(st, checked, checked, property.Map{}, false)
		switch {
		case err != nil:
			r.rep.fail("check.idempotent", subj, err.Error())
		case len(again.Failures) > 0:
			r.rep.fail("check.idempotent", subj, "Check rejects its own output: "+failureText(again.Failures))
		case !again.Properties.Equals(checked):
			r.rep.fail("check.idempotent", subj, "second Check changed: "+strings.Join(mapDiff(checked, again.Properties), ", "))
		default:
			r.rep.pass("check.idempotent", subj, "Check of its own output returns it unchanged")
		}
	}

	// check.secrets_kept
	var secretKeys []string
	for _, k := range sortedKeys(news.AsMap()) {
		if news.Get(k).HasSecrets() {
			secretKeys = append(secretKeys, k)
		}
	}
	switch {
	case len(secretKeys) == 0:
		r.rep.na("check.secrets_kept", subj, "no secret input in the fixture")
	case st.blocked != "":
		r.blockedCheck("check.secrets_kept", st)
	default:
		var problems []string
		for _, k := range secretKeys {
			v, ok := checked.GetOk(k)
			switch {
			case !ok:
				problems = append(problems, k+" was dropped")
			case !v.HasSecrets():
				problems = append(problems, k+" came back not secret")
			}
		}
		r.rep.verdict("check.secrets_kept", subj, problems, "still secret: "+strings.Join(secretKeys, ", "))
	}

	// check.unknowns_kept
	previewInputs := checked
	previewOK := st.blocked == ""
	if len(fx.Unknown) == 0 {
		r.rep.na("check.unknowns_kept", subj, "the fixture lists no unknown input")
	} else {
		withUnknowns := news
		for _, k := range fx.Unknown {
			withUnknowns = withUnknowns.Set(k, property.New(property.Computed))
		}
		resp, err := r.check(st, property.Map{}, withUnknowns, property.Map{}, true)
		previewOK = false
		switch {
		case err != nil:
			r.rep.fail("check.unknowns_kept", subj, err.Error())
		case len(resp.Failures) > 0:
			r.rep.fail("check.unknowns_kept", subj, "Check failed with unknown "+strings.Join(fx.Unknown, ", ")+
				": "+failureText(resp.Failures))
		default:
			var problems []string
			for _, k := range fx.Unknown {
				v, ok := resp.Properties.GetOk(k)
				switch {
				case !ok:
					problems = append(problems, k+" was dropped")
				case !v.IsComputed():
					problems = append(problems, fmt.Sprintf("%s came back %s, not unknown", k, kindOf(v)))
				}
			}
			r.rep.verdict("check.unknowns_kept", subj, problems, "still unknown: "+strings.Join(fx.Unknown, ", "))
			previewInputs = resp.Properties
			previewOK = true
		}
	}

	// check.invalid
	r.runInvalid(st)

	// create.preview
	if !previewOK {
		r.rep.fail("create.preview", subj, "not run: no checked inputs to preview with")
	} else {
		out, err := call(r, "Create(preview)", func(ctx context.Context) (plugin.CreateResponse, error) {
			return r.prov.Create(ctx, plugin.CreateRequest{URN: st.urn, Properties: previewInputs, Preview: true})
		})
		if err != nil {
			r.rep.fail("create.preview", subj, err.Error())
		} else {
			r.noteSecretMap(out.Properties)
			unknown := 0
			for _, v := range out.Properties.All {
				if v.IsComputed() {
					unknown++
				}
			}
			r.rep.pass("create.preview", subj, fmt.Sprintf("%d output(s), %d unknown", out.Properties.Len(), unknown))
		}
	}

	// lifecycle.create
	if st.blocked != "" {
		r.blockedCheck("lifecycle.create", st)
	} else {
		out, err := call(r, "Create", func(ctx context.Context) (plugin.CreateResponse, error) {
			return r.prov.Create(ctx, plugin.CreateRequest{URN: st.urn, Properties: checked})
		})
		switch {
		case err != nil:
			r.rep.fail("lifecycle.create", subj, err.Error())
			st.blocked = "lifecycle.create failed"
		case out.ID == "":
			r.rep.fail("lifecycle.create", subj, "empty id")
			st.blocked = "lifecycle.create returned no id"
		case out.Properties.Len() == 0:
			r.rep.fail("lifecycle.create", subj, "no outputs")
			st.blocked = "lifecycle.create returned no outputs"
		default:
			st.id, st.inputs, st.outputs, st.created = out.ID, checked, out.Properties, true
			r.noteSecretMap(out.Properties)
			r.res.outputs[fx.Key] = out.Properties
			r.rep.pass("lifecycle.create", subj, fmt.Sprintf("id %s, %d output(s)", clip(string(out.ID), 40),
				out.Properties.Len()))
		}
	}

	// lifecycle.outputs_secret and lifecycle.outputs_typed
	switch {
	case st.blocked != "":
		r.blockedCheck("lifecycle.outputs_secret", st)
		r.blockedCheck("lifecycle.outputs_typed", st)
	case !hasSpec:
		r.rep.fail("lifecycle.outputs_secret", subj, "the served schema does not declare this type")
		r.rep.fail("lifecycle.outputs_typed", subj, "the served schema does not declare this type")
	default:
		r.outputsSecret(st, rs)
		var problems []string
		typeChecker{r.spec}.props("", st.outputs, rs.Properties, &problems)
		r.rep.verdict("lifecycle.outputs_typed", subj, problems,
			fmt.Sprintf("%d output(s) match their schema types", st.outputs.Len()))
	}

	if st.blocked != "" {
		for _, c := range []string{"diff.identical", "diff.replaces_exactly", "diff.update_in_place", "lifecycle.read"} {
			r.blockedCheck(c, st)
		}
		return
	}
	r.diffIdentical(st)
	r.diffReplaces(st, rs, hasSpec)
	r.diffUpdate(st)
	r.read(st)
}

func (r *runner) runInvalid(st *resourceState) {
	const check = "check.invalid"
	subj := st.fx.Key
	if len(st.fx.Invalid) == 0 {
		r.rep.na(check, subj, "the fixture lists no invalid case")
		return
	}
	var problems, seen []string
	for i, c := range st.fx.Invalid {
		label := fmt.Sprintf("case %d", i+1)
		news, err := r.res.object(overlay(st.fx.Inputs, c.Inputs))
		if err != nil {
			problems = append(problems, label+": fixture inputs: "+err.Error())
			continue
		}
		resp, err := r.check(st, property.Map{}, news, property.Map{}, false)
		if err != nil {
			problems = append(problems, label+": an error instead of failures: "+err.Error())
			continue
		}
		got := map[string]bool{}
		for _, f := range resp.Failures {
			got[string(f.Property)] = true
		}
		var missing []string
		for _, p := range c.Paths {
			if !got[p] {
				missing = append(missing, p)
			}
		}
		switch {
		case len(resp.Failures) == 0:
			problems = append(problems, label+": accepted, no failures")
		case len(missing) > 0:
			problems = append(problems, fmt.Sprintf("%s: no failure at %s (failures: %s)", label,
				strings.Join(missing, ", "), failureText(resp.Failures)))
		default:
			seen = append(seen, strings.Join(c.Paths, "+"))
		}
	}
	r.rep.verdict(check, subj, problems, fmt.Sprintf("%d case(s) rejected at %s", len(st.fx.Invalid),
		strings.Join(seen, ", ")))
}

func (r *runner) outputsSecret(st *resourceState, rs schema.ResourceSpec) {
	const check = "lifecycle.outputs_secret"
	var declared, problems, absent []string
	for _, k := range sortedKeys(rs.Properties) {
		if !rs.Properties[k].Secret {
			continue
		}
		declared = append(declared, k)
		v, ok := st.outputs.GetOk(k)
		switch {
		case !ok || v.IsNull():
			absent = append(absent, k)
		case !v.Secret():
			problems = append(problems, k+" is not secret")
		}
	}
	// The other way round: an output that comes back secret on its own (not
	// because the program made its input secret) must be marked in the schema,
	// or SDKs and docs present it as plain.
	for _, k := range sortedKeys(st.outputs.AsMap()) {
		if spec, known := rs.Properties[k]; known && !spec.Secret && st.outputs.Get(k).Secret() &&
			!st.inputs.Get(k).Secret() {
			problems = append(problems, k+" comes back secret but the schema does not mark it secret")
		}
	}
	if len(declared) == 0 && len(problems) == 0 {
		r.rep.na(check, st.fx.Key, "the schema declares no secret output")
		return
	}
	detail := "secret: " + strings.Join(subtract(declared, absent), ", ")
	if len(absent) > 0 {
		detail += "; not returned: " + strings.Join(absent, ", ")
	}
	r.rep.verdict(check, st.fx.Key, problems, detail)
}

func subtract(all, drop []string) []string {
	out := []string{}
	for _, s := range all {
		keep := true
		for _, d := range drop {
			if s == d {
				keep = false
			}
		}
		if keep {
			out = append(out, s)
		}
	}
	return out
}

// engineSeesChange reports what the engine concludes from a Diff: with
// DIFF_UNKNOWN it compares old and new inputs itself.
func engineSeesChange(d plugin.DiffResult, oldInputs, newInputs property.Map) (changed bool, how string) {
	switch d.Changes {
	case plugin.DiffNone:
		return false, "DIFF_NONE"
	case plugin.DiffSome:
		return true, "DIFF_SOME"
	default:
		if d.Replace() || len(d.ChangedKeys) > 0 {
			return true, "DIFF_UNKNOWN with changed keys"
		}
		return !oldInputs.Equals(newInputs), "DIFF_UNKNOWN (engine compares inputs)"
	}
}

func (r *runner) diffIdentical(st *resourceState) {
	const check = "diff.identical"
	subj := st.fx.Key
	news, d, err := r.checkedDiff(st, st.fx.Inputs)
	if err != nil {
		r.rep.fail(check, subj, err.Error())
		return
	}
	changed, how := engineSeesChange(d, st.inputs, news)
	if changed || d.Replace() {
		r.rep.fail(check, subj, fmt.Sprintf("%s for unchanged inputs: %s", how, describeDiff(d)))
		return
	}
	r.rep.pass(check, subj, how)
}

// replacedKeys returns the top-level properties a Diff replaces.
func replacedKeys(d plugin.DiffResult) map[string]bool {
	out := map[string]bool{}
	for _, k := range d.ReplaceKeys {
		out[rootKey(string(k))] = true
	}
	for path, pd := range d.DetailedDiff {
		if pd.Kind.IsReplace() {
			out[rootKey(path)] = true
		}
	}
	return out
}

// rootKey is the first property name of a property path such as
// "subject.commonName", "dnsNames[0]" or `["a.b"].c`.
func rootKey(path string) string {
	if p, err := resource.ParsePropertyPath(path); err == nil && len(p) > 0 {
		if s, ok := p[0].(string); ok {
			return s
		}
	}
	if i := strings.IndexAny(path, ".["); i > 0 {
		return path[:i]
	}
	return path
}

func describeDiff(d plugin.DiffResult) string {
	var parts []string
	if len(d.ReplaceKeys) > 0 {
		parts = append(parts, fmt.Sprintf("replaces %v", d.ReplaceKeys))
	}
	if len(d.ChangedKeys) > 0 {
		parts = append(parts, fmt.Sprintf("changed %v", d.ChangedKeys))
	}
	if len(d.DetailedDiff) > 0 {
		var dd []string
		for _, k := range sortedKeys(d.DetailedDiff) {
			dd = append(dd, k+":"+d.DetailedDiff[k].Kind.String())
		}
		parts = append(parts, "detailed "+strings.Join(dd, " "))
	}
	if len(parts) == 0 {
		return "no keys listed"
	}
	return strings.Join(parts, "; ")
}

func (r *runner) diffReplaces(st *resourceState, rs schema.ResourceSpec, hasSpec bool) {
	const check = "diff.replaces_exactly"
	subj := st.fx.Key
	var marked []string
	for _, k := range sortedKeys(rs.InputProperties) {
		if replaceMarked(rs, k) {
			marked = append(marked, k)
		}
	}
	if len(st.fx.Replace) == 0 {
		r.rep.na(check, subj, fmt.Sprintf("the fixture changes no property (the schema marks %d replaceOnChanges)",
			len(marked)))
		return
	}
	if !hasSpec {
		r.rep.fail(check, subj, "the served schema does not declare this type")
		return
	}
	var problems, replaced, inPlace []string
	tested := map[string]bool{}
	for _, k := range sortedKeys(st.fx.Replace) {
		tested[k] = true
		news, d, err := r.checkedDiff(st, overlay(st.fx.Inputs, map[string]any{k: st.fx.Replace[k]}))
		if err != nil {
			problems = append(problems, k+": "+err.Error())
			continue
		}
		changed, how := engineSeesChange(d, st.inputs, news)
		reps := replacedKeys(d)
		want := replaceMarked(rs, k)
		switch {
		case !changed && !d.Replace():
			problems = append(problems, fmt.Sprintf("%s: %s, no change seen", k, how))
		case want && !reps[k]:
			problems = append(problems, fmt.Sprintf("%s is replaceOnChanges but Diff does not replace on it (%s)",
				k, describeDiff(d)))
		case !want && reps[k]:
			problems = append(problems, fmt.Sprintf("%s is not replaceOnChanges but Diff replaces on it", k))
		case want:
			replaced = append(replaced, k)
		default:
			inPlace = append(inPlace, k)
		}
		for _, other := range sortedKeys(reps) {
			if other != k && !replaceMarked(rs, other) {
				problems = append(problems, fmt.Sprintf("changing %s, Diff replaces on %s, which the schema does "+
					"not mark replaceOnChanges", k, other))
			}
		}
	}
	var untested []string
	for _, k := range marked {
		if !tested[k] {
			untested = append(untested, k)
		}
	}
	detail := fmt.Sprintf("replaces: %s; updates in place: %s", listOrNone(replaced), listOrNone(inPlace))
	if len(untested) > 0 {
		detail += fmt.Sprintf("; %d marked property(ies) not in the fixture: %s", len(untested),
			summarize(untested, 6))
	}
	r.rep.verdict(check, subj, problems, detail)
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}

func (r *runner) diffUpdate(st *resourceState) {
	const check = "diff.update_in_place"
	subj := st.fx.Key
	if st.fx.Update == nil {
		r.rep.na(check, subj, "the fixture has no update")
		return
	}
	news, d, err := r.checkedDiff(st, overlay(st.fx.Inputs, st.fx.Update))
	if err != nil {
		r.rep.fail(check, subj, err.Error())
		return
	}
	changed, how := engineSeesChange(d, st.inputs, news)
	switch {
	case !changed:
		r.rep.fail(check, subj, how+": no change seen for the update")
		return
	case d.Replace():
		r.rep.fail(check, subj, "Diff replaces instead of updating: "+describeDiff(d))
		return
	}
	out, err := call(r, "Update", func(ctx context.Context) (plugin.UpdateResponse, error) {
		return r.prov.Update(ctx, plugin.UpdateRequest{
			URN: st.urn, ID: st.id, OldInputs: st.inputs, OldOutputs: st.outputs, NewInputs: news,
		})
	})
	if err != nil {
		r.rep.fail(check, subj, "Diff fine ("+how+"), but "+err.Error())
		return
	}
	r.noteSecretMap(out.Properties)
	st.inputs, st.outputs = news, out.Properties
	r.res.outputs[st.fx.Key] = out.Properties
	r.rep.pass(check, subj, fmt.Sprintf("%s, %s; Update returned %d output(s)", how, describeDiff(d),
		out.Properties.Len()))
}

func (r *runner) read(st *resourceState) {
	const check = "lifecycle.read"
	subj := st.fx.Key
	out, err := call(r, "Read", func(ctx context.Context) (plugin.ReadResponse, error) {
		return r.prov.Read(ctx, plugin.ReadRequest{URN: st.urn, ID: st.id, Inputs: st.inputs, State: st.outputs})
	})
	if err != nil {
		r.rep.fail(check, subj, err.Error())
		return
	}
	var problems []string
	if out.ID != st.id {
		problems = append(problems, fmt.Sprintf("id %q, recorded %q", clip(string(out.ID), 40), clip(string(st.id), 40)))
	}
	if out.Outputs == nil {
		problems = append(problems, "reported as gone")
	} else {
		r.noteSecretMap(*out.Outputs)
		if !out.Outputs.Equals(st.outputs) {
			problems = append(problems, "outputs differ: "+strings.Join(mapDiff(st.outputs, *out.Outputs), ", "))
		}
	}
	if out.Inputs != nil {
		r.noteSecretMap(*out.Inputs)
		if !out.Inputs.Equals(st.inputs) {
			problems = append(problems, "inputs differ: "+strings.Join(mapDiff(st.inputs, *out.Inputs), ", "))
		}
	}
	detail := "same id and outputs"
	if out.Inputs != nil {
		detail += ", same inputs"
	}
	r.rep.verdict(check, subj, problems, detail)
}

// mapDiff names the keys whose values differ, with how when it is short.
func mapDiff(a, b property.Map) []string {
	keys := map[string]bool{}
	for k := range a.All {
		keys[k] = true
	}
	for k := range b.All {
		keys[k] = true
	}
	var out []string
	for _, k := range sortedKeys(keys) {
		av, aok := a.GetOk(k)
		bv, bok := b.GetOk(k)
		switch {
		case !aok:
			out = append(out, k+" added")
		case !bok:
			out = append(out, k+" removed")
		case !av.Equals(bv):
			what := k
			if av.Secret() != bv.Secret() {
				what += fmt.Sprintf(" (secret %v -> %v)", av.Secret(), bv.Secret())
			} else if kindOf(av) != kindOf(bv) {
				what += fmt.Sprintf(" (%s -> %s)", kindOf(av), kindOf(bv))
			}
			out = append(out, what)
		}
	}
	if len(out) == 0 {
		out = append(out, "(no key-level difference)")
	}
	return out
}

// ---------------------------------------------------------------------------
// resources, last phase: Delete, in reverse order

func (r *runner) deleteAll() {
	for i := len(r.states) - 1; i >= 0; i-- {
		st := r.states[i]
		subj := st.fx.Key
		if !st.created {
			if st.blocked == "" {
				st.blocked = "not created"
			}
			r.blockedCheck("lifecycle.delete", st)
			r.blockedCheck("lifecycle.read_after_delete", st)
			continue
		}
		_, err := call(r, "Delete", func(ctx context.Context) (plugin.DeleteResponse, error) {
			return r.prov.Delete(ctx, plugin.DeleteRequest{URN: st.urn, ID: st.id, Inputs: st.inputs, Outputs: st.outputs})
		})
		if err != nil {
			r.rep.fail("lifecycle.delete", subj, err.Error())
			r.rep.fail("lifecycle.read_after_delete", subj, "not run: lifecycle.delete failed")
			continue
		}
		r.rep.pass("lifecycle.delete", subj, "deleted "+clip(string(st.id), 40))
		if st.fx.StateOnly {
			r.rep.na("lifecycle.read_after_delete", subj,
				"the fixture marks it stateOnly: it exists only in Pulumi state, so no Read can see it gone")
			continue
		}
		out, err := call(r, "Read", func(ctx context.Context) (plugin.ReadResponse, error) {
			return r.prov.Read(ctx, plugin.ReadRequest{URN: st.urn, ID: st.id, Inputs: st.inputs, State: st.outputs})
		})
		switch {
		case err != nil:
			r.rep.fail("lifecycle.read_after_delete", subj, err.Error())
		case out.ID != "" || (out.Outputs != nil && out.Outputs.Len() > 0):
			r.rep.fail("lifecycle.read_after_delete", subj, fmt.Sprintf("still found after Delete (id %q)",
				clip(string(out.ID), 40)))
		default:
			r.rep.pass("lifecycle.read_after_delete", subj, "empty id: gone")
		}
	}
}

// ---------------------------------------------------------------------------
// functions

func (r *runner) runFunction(fx *functionFixture) {
	subj := fx.Token
	args, err := r.res.object(fx.Args)
	if err != nil {
		r.rep.fail("invoke.known", subj, "fixture args unavailable: "+err.Error())
		if len(fx.SecretResults) > 0 {
			r.rep.fail("invoke.secret_results", subj, "not run: invoke.known failed")
		} else {
			r.rep.na("invoke.secret_results", subj, "the fixture lists no secret result")
		}
		return
	}
	r.noteSecretMap(args)
	out, err := call(r, "Invoke", func(ctx context.Context) (plugin.InvokeResponse, error) {
		return r.prov.Invoke(ctx, plugin.InvokeRequest{Tok: tokens.ModuleMember(fx.Token), Args: args})
	})
	ok := false
	switch {
	case err != nil:
		r.rep.fail("invoke.known", subj, err.Error())
	case len(out.Failures) > 0:
		r.noteFailures(out.Failures)
		r.rep.fail("invoke.known", subj, "failures: "+failureText(out.Failures))
	default:
		ok = true
		r.noteSecretMap(out.Properties)
		keys := sortedKeys(out.Properties.AsMap())
		sort.Strings(keys)
		r.rep.pass("invoke.known", subj, fmt.Sprintf("%d result(s): %s", len(keys), summarize(keys, 8)))
	}
	switch {
	case len(fx.SecretResults) == 0:
		r.rep.na("invoke.secret_results", subj, "the fixture lists no secret result")
	case !ok:
		r.rep.fail("invoke.secret_results", subj, "not run: invoke.known failed")
	default:
		var problems []string
		for _, k := range fx.SecretResults {
			v, present := out.Properties.GetOk(k)
			switch {
			case !present:
				problems = append(problems, k+" missing")
			case !v.Secret():
				problems = append(problems, k+" is not secret")
			}
		}
		r.rep.verdict("invoke.secret_results", subj, problems, "secret: "+strings.Join(fx.SecretResults, ", "))
	}
}
