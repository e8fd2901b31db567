package main

// Fixture format
//
// A fixture file is one JSON object that tells the runner what to send to the
// provider. Every key is optional; unknown keys are reported by the
// fixture.valid check (they are usually typos).
//
//	{
//	  "config": {"someVariable": "value"},
//	  "resources": {
//	    "pkg:mod:Type": {
//	      "inputs":    {"prop": "value", ...},
//	      "unknown":   ["prop"],
//	      "invalid":   [{"inputs": {"prop": "bad"}, "paths": ["prop"]}],
//	      "update":    {"otherProp": 2},
//	      "replace":   {"prop": "other value"},
//	      "stateOnly": false
//	    }
//	  },
//	  "functions": {
//	    "pkg:mod:getThing": {"args": {...}, "secretResults": ["result"]}
//	  }
//	}
//
// config: the provider's configuration, sent to CheckConfig and Configure.
//
// resources: one entry per resource type token, exercised in the order of the
// file. Each one is created once and kept until every resource and function
// has run; they are then deleted in reverse order, so that later resources may
// use earlier ones' outputs and are removed before what they depend on.
//
//   - inputs: the valid inputs, as a program would register them.
//   - unknown: top-level input names to replace by an unknown (computed) value,
//     as in a preview where they come from resources not yet created.
//   - invalid: cases that Check must reject. A case's inputs are laid over the
//     valid inputs (a null value removes the key), and every property path in
//     "paths" (or the single "path") must be among the failures Check returns.
//   - update: inputs laid over the valid inputs (null removes a key) that the
//     provider must apply in place; null or absent means no in-place update
//     is tested.
//   - replace: property -> new value; each is changed alone, and Diff must
//     replace exactly when the schema marks the property replaceOnChanges.
// An entry's key is the type token, optionally followed by "#label" when a file
// needs two resources of one type ("pkg:mod:Mount#intermediate"); the whole key
// names the entry in the report and in "$ref"s.
//
//   - stateOnly: true when the resource lives only in Pulumi state (a
//     generated key, a local certificate): its provider cannot observe a
//     deletion, so lifecycle.read_after_delete does not apply.
//
//   - panic, initFailure, slow: the failure contract, each an object
//     {"inputs": {...}, "arrange": [{"method": "POST", "url": U, "body": B}]}.
//     The inputs are laid over the valid inputs; the arrange requests (to a
//     test backend's control API, say) are made first and must answer 2xx.
//     panic: inputs that make the provider panic inside Check (only providers
//     that expose a way to); initFailure: inputs with which Create makes the
//     resource and then fails; slow: inputs with which Create takes long
//     enough to be cancelled.
//
// requires: environment variables that locate the fixture's backend; when one
// is unset every check of the file's resources and functions is reported n/a
// ("backend absent"), never passed.
//
// functions: one entry per function token, invoked after every resource was
// created, in file order.
//
//   - args: the arguments.
//   - secretResults: result names that must come back secret.
//
// Values are plain JSON with two directives, each an object with one key:
//
//   - {"$secret": X}: X, marked secret.
//   - {"$env": "NAME"}: the value of environment variable NAME, for what differs
//     per run (a local server's address); unset is a fixture.valid failure.
//   - {"$ref": "pkg:mod:Type.output"}: that output of the resource created from
//     this fixture's entry for pkg:mod:Type, secret if the provider returned it
//     secret. The part after the first dot is a property path, so
//     "pkg:mod:Type.subject.commonName" and "pkg:mod:Type.list[0]" work. Only
//     resources listed before the one using the reference can be referred to.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

type fixtureFile struct {
	Requires  []string // environment variables naming the backend; unset: everything is n/a
	Config    map[string]any
	Resources []*resourceFixture
	Functions []*functionFixture
}

type resourceFixture struct {
	Key       string // the entry's key: Type, or Type#label
	Type      string
	Inputs    map[string]any
	Unknown   []string
	Invalid   []invalidCase
	Update    map[string]any // nil: no in-place update to test
	Replace   map[string]any
	StateOnly bool

	// The failure contract: inputs (laid over the valid ones) that provoke a
	// situation, after the arranging requests are made. Nil: not provoked.
	Panic       *provocation
	InitFailure *provocation
	Slow        *provocation
}

// provocation is how a fixture makes a provider meet a failure: the inputs,
// and HTTP requests to a test backend that arrange it first.
type provocation struct {
	Inputs  map[string]any
	Arrange []arrangeRequest
}

type arrangeRequest struct {
	Method string
	URL    any // a string or an $env directive
	Body   any // JSON; $env directives in it are resolved
}

type invalidCase struct {
	Inputs map[string]any
	Paths  []string
}

type functionFixture struct {
	Token         string
	Args          map[string]any
	SecretResults []string
}

// Raw forms, decoded strictly so that misspelt keys are reported.
type rawFixtureFile struct {
	Requires  []string        `json:"requires"`
	Config    map[string]any  `json:"config"`
	Resources json.RawMessage `json:"resources"`
	Functions json.RawMessage `json:"functions"`
}

type rawResource struct {
	Inputs    map[string]any `json:"inputs"`
	Unknown   []string       `json:"unknown"`
	Invalid   []rawInvalid   `json:"invalid"`
	Update    map[string]any `json:"update"`
	Replace   map[string]any `json:"replace"`
	StateOnly bool           `json:"stateOnly"`

	Panic       *rawProvocation `json:"panic"`
	InitFailure *rawProvocation `json:"initFailure"`
	Slow        *rawProvocation `json:"slow"`
}

type rawProvocation struct {
	Inputs  map[string]any `json:"inputs"`
	Arrange []rawRequest   `json:"arrange"`
}

type rawRequest struct {
	Method string `json:"method"`
	URL    any    `json:"url"`
	Body   any    `json:"body"`
}

type rawInvalid struct {
	Inputs map[string]any `json:"inputs"`
	Paths  []string       `json:"paths"`
	Path   string         `json:"path"`
}

type rawFunction struct {
	Args          map[string]any `json:"args"`
	SecretResults []string       `json:"secretResults"`
}

func strictDecode(data []byte, into any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// objectKeys returns the keys of a JSON object in file order, which
// encoding/json's maps forget.
func objectKeys(data json.RawMessage) ([]string, error) {
	if len(bytes.TrimSpace(data)) == 0 || string(bytes.TrimSpace(data)) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("expected an object")
	}
	var keys []string
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errors.New("expected an object key")
		}
		if seen[key] {
			return nil, fmt.Errorf("key %q appears twice", key)
		}
		seen[key] = true
		keys = append(keys, key)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// parseFixtures decodes a fixture file. Problems that leave part of the file
// usable come back in problems; err means nothing could be used.
func parseFixtures(data []byte) (f *fixtureFile, problems []string, err error) {
	var raw rawFixtureFile
	if err := strictDecode(data, &raw); err != nil {
		return nil, nil, fmt.Errorf("fixture file: %w", err)
	}
	f = &fixtureFile{Requires: raw.Requires, Config: raw.Config}

	resourceKeys, err := objectKeys(raw.Resources)
	if err != nil {
		return nil, nil, fmt.Errorf("fixture resources: %w", err)
	}
	var resources map[string]json.RawMessage
	if len(resourceKeys) > 0 {
		if err := json.Unmarshal(raw.Resources, &resources); err != nil {
			return nil, nil, fmt.Errorf("fixture resources: %w", err)
		}
	}
	for _, tok := range resourceKeys {
		var r rawResource
		if err := strictDecode(resources[tok], &r); err != nil {
			problems = append(problems, fmt.Sprintf("resource %s: %v", tok, err))
			continue
		}
		typ, label, labelled := strings.Cut(tok, "#")
		if labelled && label == "" {
			problems = append(problems, fmt.Sprintf("resource %s: empty label after #", tok))
			continue
		}
		rf := &resourceFixture{
			Key:       tok,
			Type:      typ,
			Inputs:    r.Inputs,
			Unknown:   r.Unknown,
			Update:    r.Update,
			Replace:   r.Replace,
			StateOnly: r.StateOnly,
		}
		if rf.Inputs == nil {
			rf.Inputs = map[string]any{}
		}
		rf.Panic = r.Panic.parsed()
		rf.InitFailure = r.InitFailure.parsed()
		rf.Slow = r.Slow.parsed()
		for i, c := range r.Invalid {
			paths := append([]string(nil), c.Paths...)
			if c.Path != "" {
				paths = append(paths, c.Path)
			}
			if len(paths) == 0 {
				problems = append(problems, fmt.Sprintf("resource %s: invalid case %d lists no path", tok, i+1))
				continue
			}
			rf.Invalid = append(rf.Invalid, invalidCase{Inputs: c.Inputs, Paths: paths})
		}
		f.Resources = append(f.Resources, rf)
	}

	functionKeys, err := objectKeys(raw.Functions)
	if err != nil {
		return nil, nil, fmt.Errorf("fixture functions: %w", err)
	}
	var functions map[string]json.RawMessage
	if len(functionKeys) > 0 {
		if err := json.Unmarshal(raw.Functions, &functions); err != nil {
			return nil, nil, fmt.Errorf("fixture functions: %w", err)
		}
	}
	for _, tok := range functionKeys {
		var fn rawFunction
		if err := strictDecode(functions[tok], &fn); err != nil {
			problems = append(problems, fmt.Sprintf("function %s: %v", tok, err))
			continue
		}
		args := fn.Args
		if args == nil {
			args = map[string]any{}
		}
		f.Functions = append(f.Functions, &functionFixture{
			Token: tok, Args: args, SecretResults: fn.SecretResults,
		})
	}
	return f, problems, nil
}

func (p *rawProvocation) parsed() *provocation {
	if p == nil {
		return nil
	}
	out := &provocation{Inputs: p.Inputs}
	for _, r := range p.Arrange {
		method := r.Method
		if method == "" {
			method = "POST"
		}
		out.Arrange = append(out.Arrange, arrangeRequest{Method: method, URL: r.URL, Body: r.Body})
	}
	return out
}

// missingRequirements lists the required environment variables that are unset.
func (f *fixtureFile) missingRequirements() []string {
	var missing []string
	for _, name := range f.Requires {
		if _, set := os.LookupEnv(name); !set {
			missing = append(missing, name)
		}
	}
	return missing
}

// plainJSON resolves the $env directives inside a JSON value (for arranging
// requests, which go to a backend, not to the provider).
func plainJSON(v any) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		if name, ok := v["$env"]; ok && len(v) == 1 {
			return envValue(name)
		}
		out := make(map[string]any, len(v))
		for k, e := range v {
			pe, err := plainJSON(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = pe
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			pe, err := plainJSON(e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = pe
		}
		return out, nil
	default:
		return v, nil
	}
}

// overlay lays changes over base: a nil value removes the key.
func overlay(base, changes map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(changes))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range changes {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

// envValue is the value of the environment variable an "$env" directive names.
func envValue(name any) (string, error) {
	s, ok := name.(string)
	if !ok || s == "" {
		return "", errors.New("$env must name an environment variable")
	}
	v, set := os.LookupEnv(s)
	if !set {
		return "", fmt.Errorf("$env %q is not set", s)
	}
	return v, nil
}

// refTarget splits a "$ref" string into the resource entry (Type or
// Type#label) and the output path.
func refTarget(ref string) (typ, path string, err error) {
	dot := strings.IndexByte(ref, '.')
	if dot <= 0 || dot == len(ref)-1 {
		return "", "", fmt.Errorf("$ref %q is not of the form TYPE.output", ref)
	}
	return ref[:dot], ref[dot+1:], nil
}

// collectRefs lists every "$ref" string inside a fixture value.
func collectRefs(v any, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		if ref, ok := v["$ref"]; ok && len(v) == 1 {
			if s, ok := ref.(string); ok {
				*out = append(*out, s)
				return
			}
		}
		for _, k := range sortedKeys(v) {
			collectRefs(v[k], out)
		}
	case []any:
		for _, e := range v {
			collectRefs(e, out)
		}
	}
}

// resolver turns fixture values into property values, looking up "$ref"s in
// the outputs of the resources created so far.
type resolver struct {
	outputs map[string]property.Map // entry key -> outputs of its created resource
}

func (r *resolver) value(v any) (property.Value, error) {
	switch v := v.(type) {
	case nil:
		return property.New(property.Null), nil
	case bool:
		return property.New(v), nil
	case string:
		return property.New(v), nil
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return property.Value{}, fmt.Errorf("number %s: %w", v.String(), err)
		}
		return property.New(f), nil
	case float64:
		return property.New(v), nil
	case []any:
		items := make([]property.Value, 0, len(v))
		for i, e := range v {
			pv, err := r.value(e)
			if err != nil {
				return property.Value{}, fmt.Errorf("[%d]: %w", i, err)
			}
			items = append(items, pv)
		}
		return property.New(items), nil
	case map[string]any:
		if len(v) == 1 {
			if inner, ok := v["$secret"]; ok {
				pv, err := r.value(inner)
				if err != nil {
					return property.Value{}, fmt.Errorf("$secret: %w", err)
				}
				return pv.WithSecret(true), nil
			}
			if ref, ok := v["$ref"]; ok {
				s, ok := ref.(string)
				if !ok {
					return property.Value{}, errors.New("$ref must be a string")
				}
				return r.lookup(s)
			}
			if name, ok := v["$env"]; ok {
				s, err := envValue(name)
				if err != nil {
					return property.Value{}, err
				}
				return property.New(s), nil
			}
		}
		m, err := r.object(v)
		if err != nil {
			return property.Value{}, err
		}
		return property.New(m), nil
	default:
		return property.Value{}, fmt.Errorf("unsupported fixture value of type %T", v)
	}
}

func (r *resolver) object(v map[string]any) (property.Map, error) {
	out := make(map[string]property.Value, len(v))
	for _, k := range sortedKeys(v) {
		if strings.HasPrefix(k, "$") {
			return property.Map{}, fmt.Errorf("unknown directive %q (only $secret, $ref and $env, each "+
				"alone in its object)", k)
		}
		pv, err := r.value(v[k])
		if err != nil {
			return property.Map{}, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = pv
	}
	return property.NewMap(out), nil
}

func (r *resolver) lookup(ref string) (property.Value, error) {
	typ, path, err := refTarget(ref)
	if err != nil {
		return property.Value{}, err
	}
	outs, ok := r.outputs[typ]
	if !ok {
		return property.Value{}, fmt.Errorf("$ref %q: no created %s to refer to", ref, typ)
	}
	var p property.Path
	if err := p.UnmarshalText([]byte(path)); err != nil {
		return property.Value{}, fmt.Errorf("$ref %q: bad path: %w", ref, err)
	}
	v, err := p.Get(property.New(outs))
	if err != nil {
		return property.Value{}, fmt.Errorf("$ref %q: %w", ref, err)
	}
	// A value inside a secret output is as secret as the output.
	for seg := range p.Segments {
		if key, ok := seg.(property.KeySegment); ok && outs.Get(key.Key()).Secret() {
			v = v.WithSecret(true)
		}
		break
	}
	return v, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
