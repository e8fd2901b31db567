package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"reflect"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

// checkBinds is schema.binds: the served schema binds (with the metaschema
// validation BindSpec does) without error diagnostics.
func checkBinds(rep *report, subject string, spec *schema.PackageSpec, loader schema.Loader) {
	const check = "schema.binds"
	var (
		diags hcl.Diagnostics
		err   error
	)
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("binding panicked: %v", p)
			}
		}()
		_, diags, err = schema.BindSpec(*spec, loader, schema.ValidationOptions{})
	}()
	if err != nil {
		rep.fail(check, subject, err.Error())
		return
	}
	var errs, warnings []string
	for _, d := range diags {
		text := d.Summary
		if d.Detail != "" {
			text += ": " + d.Detail
		}
		if d.Subject != nil && d.Subject.Filename != "" {
			text = d.Subject.Filename + ": " + text
		}
		if d.Severity == hcl.DiagError {
			errs = append(errs, text)
		} else {
			warnings = append(warnings, text)
		}
	}
	if len(errs) > 0 {
		rep.fail(check, subject, fmt.Sprintf("%d error diagnostic(s): %s", len(errs), summarize(errs, 5)))
		return
	}
	detail := "no diagnostics"
	if len(warnings) > 0 {
		detail = fmt.Sprintf("%d warning(s): %s", len(warnings), summarize(warnings, 3))
	}
	rep.pass(check, subject, detail)
}

// checkDocumented is schema.documented: every resource, function, input and
// output property and config variable carries a description.
func checkDocumented(rep *report, subject string, spec *schema.PackageSpec) {
	var missing []string
	props := func(where string, ps map[string]schema.PropertySpec) {
		for _, name := range sortedKeys(ps) {
			if strings.TrimSpace(ps[name].Description) == "" {
				missing = append(missing, where+"."+name)
			}
		}
	}
	for _, name := range sortedKeys(spec.Config.Variables) {
		if strings.TrimSpace(spec.Config.Variables[name].Description) == "" {
			missing = append(missing, "config."+name)
		}
	}
	props("provider.inputs", spec.Provider.InputProperties)
	for _, tok := range sortedKeys(spec.Resources) {
		r := spec.Resources[tok]
		if strings.TrimSpace(r.Description) == "" {
			missing = append(missing, tok)
		}
		props(tok+".inputs", r.InputProperties)
		props(tok+".outputs", r.Properties)
	}
	for _, tok := range sortedKeys(spec.Functions) {
		f := spec.Functions[tok]
		if strings.TrimSpace(f.Description) == "" {
			missing = append(missing, tok)
		}
		if f.Inputs != nil {
			props(tok+".inputs", f.Inputs.Properties)
		}
		if outs := functionOutputs(f); outs != nil {
			props(tok+".outputs", outs.Properties)
		}
	}
	if len(missing) == 0 {
		rep.pass("schema.documented", subject, fmt.Sprintf("%d resources, %d functions, %d config variables",
			len(spec.Resources), len(spec.Functions), len(spec.Config.Variables)))
		return
	}
	rep.fail("schema.documented", subject, fmt.Sprintf("%d without a description: %s",
		len(missing), summarize(missing, 8)))
}

func functionOutputs(f schema.FunctionSpec) *schema.ObjectTypeSpec {
	if f.Outputs != nil {
		return f.Outputs
	}
	if f.ReturnType != nil {
		return f.ReturnType.ObjectTypeSpec
	}
	return nil
}

// checkMatchesCheckedIn is schema.matches_checked_in: the served schema and
// the file are equal as JSON values.
func checkMatchesCheckedIn(rep *report, subject string, served []byte, path string) {
	const check = "schema.matches_checked_in"
	if path == "" {
		rep.na(check, subject, "no --schema file given")
		return
	}
	if served == nil {
		rep.fail(check, subject, "no schema was served to compare")
		return
	}
	file, err := os.ReadFile(path)
	if err != nil {
		rep.fail(check, subject, err.Error())
		return
	}
	var a, b any
	if err := json.Unmarshal(served, &a); err != nil {
		rep.fail(check, subject, "served schema is not JSON: "+err.Error())
		return
	}
	if err := json.Unmarshal(file, &b); err != nil {
		rep.fail(check, subject, path+" is not JSON: "+err.Error())
		return
	}
	if reflect.DeepEqual(a, b) {
		rep.pass(check, subject, "equal to "+path)
		return
	}
	var diffs []string
	jsonDiff("", a, b, &diffs)
	rep.fail(check, subject, fmt.Sprintf("served schema differs from %s at %d place(s): %s",
		path, len(diffs), summarize(diffs, 5)))
}

// jsonDiff lists the JSON paths where served (a) and file (b) differ.
func jsonDiff(at string, a, b any, out *[]string) {
	if len(*out) > 50 {
		return
	}
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		for _, k := range sortedKeys(keys) {
			av, ain := am[k]
			bv, bin := bm[k]
			switch {
			case !bin:
				*out = append(*out, at+"/"+k+" only served")
			case !ain:
				*out = append(*out, at+"/"+k+" only in file")
			default:
				jsonDiff(at+"/"+k, av, bv, out)
			}
		}
		return
	}
	al, aok := a.([]any)
	bl, bok := b.([]any)
	if aok && bok && len(al) == len(bl) {
		for i := range al {
			jsonDiff(fmt.Sprintf("%s/%d", at, i), al[i], bl[i], out)
		}
		return
	}
	if !reflect.DeepEqual(a, b) {
		if at == "" {
			at = "/"
		}
		*out = append(*out, at+" differs")
	}
}

// replaceMarked reports whether the schema says changing the resource's
// property replaces it. In Pulumi's schema this is per property:
// replaceOnChanges (which SDK generation also turns into the replaceOnChanges
// resource option, but only from output properties) or willReplaceOnChanges
// (documentation that the provider's own Diff replaces). Either one, on the
// input or the output property of that name, counts.
func replaceMarked(r schema.ResourceSpec, name string) bool {
	if p, ok := r.InputProperties[name]; ok && (p.ReplaceOnChanges || p.WillReplaceOnChanges) {
		return true
	}
	if p, ok := r.Properties[name]; ok && (p.ReplaceOnChanges || p.WillReplaceOnChanges) {
		return true
	}
	return false
}

// typeChecker compares property values with schema types, down to basic kinds.
type typeChecker struct {
	spec *schema.PackageSpec
}

// props checks the values of a map against an object's property specs.
// Undeclared keys are reported: no SDK can read them.
func (tc typeChecker) props(at string, m property.Map, specs map[string]schema.PropertySpec, out *[]string) {
	for _, k := range sortedKeys(m.AsMap()) {
		ps, ok := specs[k]
		if !ok {
			*out = append(*out, join(at, k)+" is not declared in the schema")
			continue
		}
		tc.value(join(at, k), m.Get(k), ps.TypeSpec, out)
	}
}

func join(at, k string) string {
	if at == "" {
		return k
	}
	return at + "." + k
}

func kindOf(v property.Value) string {
	switch {
	case v.IsNull():
		return "null"
	case v.IsComputed():
		return "unknown"
	case v.IsBool():
		return "boolean"
	case v.IsNumber():
		return "number"
	case v.IsString():
		return "string"
	case v.IsArray():
		return "array"
	case v.IsMap():
		return "object"
	case v.IsAsset():
		return "asset"
	case v.IsArchive():
		return "archive"
	case v.IsResourceReference():
		return "resource reference"
	}
	return "?"
}

func (tc typeChecker) value(at string, v property.Value, ts schema.TypeSpec, out *[]string) {
	if v.IsNull() {
		return // an optional output that is not set
	}
	if v.IsComputed() {
		*out = append(*out, at+" is unknown outside a preview")
		return
	}
	wrong := func(want string) {
		*out = append(*out, fmt.Sprintf("%s is %s, schema says %s", at, kindOf(v), want))
	}
	if len(ts.OneOf) > 0 {
		for _, alt := range ts.OneOf {
			var probe []string
			tc.value(at, v, alt, &probe)
			if len(probe) == 0 {
				return
			}
		}
		wrong("one of its oneOf types")
		return
	}
	if ts.Ref != "" {
		tc.ref(at, v, ts.Ref, out)
		return
	}
	switch ts.Type {
	case "string":
		if !v.IsString() {
			wrong("string")
		}
	case "number":
		if !v.IsNumber() {
			wrong("number")
		}
	case "integer":
		if !v.IsNumber() {
			wrong("integer")
		} else if n := v.AsNumber(); n != math.Trunc(n) {
			*out = append(*out, fmt.Sprintf("%s is %v, schema says integer", at, n))
		}
	case "boolean":
		if !v.IsBool() {
			wrong("boolean")
		}
	case "array":
		if !v.IsArray() {
			wrong("array")
			return
		}
		if ts.Items != nil {
			for i, e := range v.AsArray().AsSlice() {
				tc.value(fmt.Sprintf("%s[%d]", at, i), e, *ts.Items, out)
			}
		}
	case "object":
		if !v.IsMap() {
			wrong("object")
			return
		}
		if ts.AdditionalProperties != nil {
			for k, e := range v.AsMap().All {
				tc.value(join(at, k), e, *ts.AdditionalProperties, out)
			}
		}
	}
}

func (tc typeChecker) ref(at string, v property.Value, ref string, out *[]string) {
	wrong := func(want string) {
		*out = append(*out, fmt.Sprintf("%s is %s, schema says %s", at, kindOf(v), want))
	}
	switch ref {
	case "pulumi.json#/Any", "pulumi.json#/Json":
		return
	case "pulumi.json#/Archive":
		if !v.IsArchive() {
			wrong("archive")
		}
		return
	case "pulumi.json#/Asset":
		if !v.IsAsset() && !v.IsArchive() {
			wrong("asset")
		}
		return
	}
	if tok, ok := strings.CutPrefix(ref, "#/types/"); ok && tc.spec != nil {
		t, ok := tc.spec.Types[tok]
		if !ok {
			*out = append(*out, at+" refers to undeclared type "+tok)
			return
		}
		if len(t.Enum) > 0 {
			tc.value(at, v, schema.TypeSpec{Type: t.Type}, out)
			return
		}
		if !v.IsMap() {
			wrong("object " + tok)
			return
		}
		tc.props(at, v.AsMap(), t.Properties, out)
		return
	}
	if _, ok := strings.CutPrefix(ref, "#/resources/"); ok {
		if !v.IsResourceReference() && !v.IsString() {
			wrong("a resource reference")
		}
		return
	}
	// A type of another package: not checked in this slice.
}
