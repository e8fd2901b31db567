package main

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

// validateFixtures checks a parsed fixture against the served schema (when
// there is one) and against itself: types and functions exist, names are
// declared, and every "$ref" points at an output of a resource listed
// earlier. It returns the problems and the resource types to skip because
// the provider cannot know them.
func validateFixtures(f *fixtureFile, spec *schema.PackageSpec) (problems []string, skip map[string]bool) {
	skip = map[string]bool{}
	earlier := map[string]bool{}
	required := map[string]bool{}
	for _, name := range f.Requires {
		required[name] = true
	}
	all := map[string]bool{}
	typeOf := map[string]string{}
	for _, rf := range f.Resources {
		all[rf.Key] = true
		typeOf[rf.Key] = rf.Type
	}

	refsOK := func(where string, v any, allowed map[string]bool) {
		var refs []string
		collectRefs(v, &refs)
		for _, ref := range refs {
			typ, path, err := refTarget(ref)
			if err != nil {
				problems = append(problems, where+": "+err.Error())
				continue
			}
			if !allowed[typ] {
				problems = append(problems, fmt.Sprintf("%s: $ref %q names no resource listed before it", where, ref))
				continue
			}
			if spec != nil {
				if rs, ok := spec.Resources[typeOf[typ]]; ok {
					if _, ok := rs.Properties[rootKey(path)]; !ok {
						problems = append(problems, fmt.Sprintf("%s: $ref %q: %s has no output %s", where, ref, typ,
							rootKey(path)))
					}
				}
			}
		}
		var bad []string
		findBadDirectives(v, &bad, required)
		for _, b := range bad {
			problems = append(problems, where+": "+b)
		}
	}

	for _, rf := range f.Resources {
		where := rf.Key
		var rs schema.ResourceSpec
		known := false
		if spec != nil {
			rs, known = spec.Resources[rf.Type]
			if !known {
				problems = append(problems, rf.Key+": not a resource of the served schema (skipped)")
				skip[rf.Key] = true
			}
		}
		declared := func(what string, keys []string) {
			if !known {
				return
			}
			for _, k := range keys {
				if _, ok := rs.InputProperties[k]; !ok {
					problems = append(problems, fmt.Sprintf("%s: %s %q is not an input property", where, what, k))
				}
			}
		}
		declared("input", sortedKeys(rf.Inputs))
		refsOK(where+" inputs", rf.Inputs, earlier)
		for _, k := range rf.Unknown {
			if _, ok := rf.Inputs[k]; !ok {
				problems = append(problems, fmt.Sprintf("%s: unknown %q is not among its inputs", where, k))
			}
		}
		for i, c := range rf.Invalid {
			declared(fmt.Sprintf("invalid case %d input", i+1), sortedKeys(c.Inputs))
			refsOK(fmt.Sprintf("%s invalid case %d", where, i+1), c.Inputs, earlier)
			for _, p := range c.Paths {
				if strings.TrimSpace(p) == "" {
					problems = append(problems, fmt.Sprintf("%s: invalid case %d has an empty path", where, i+1))
				}
			}
		}
		if rf.Update != nil {
			declared("update", sortedKeys(rf.Update))
			refsOK(where+" update", rf.Update, earlier)
		}
		declared("replace", sortedKeys(rf.Replace))
		refsOK(where+" replace", rf.Replace, earlier)
		for _, pv := range []struct {
			name string
			p    *provocation
		}{{"panic", rf.Panic}, {"initFailure", rf.InitFailure}, {"slow", rf.Slow}} {
			if pv.p == nil {
				continue
			}
			declared(pv.name+" input", sortedKeys(pv.p.Inputs))
			refsOK(where+" "+pv.name, pv.p.Inputs, all)
			for i, a := range pv.p.Arrange {
				refsOK(fmt.Sprintf("%s %s arrange %d", where, pv.name, i+1), a.URL, map[string]bool{})
				refsOK(fmt.Sprintf("%s %s arrange %d", where, pv.name, i+1), a.Body, map[string]bool{})
			}
		}
		earlier[rf.Key] = true
	}

	for _, fn := range f.Functions {
		where := fn.Token
		var fs schema.FunctionSpec
		known := false
		if spec != nil {
			fs, known = spec.Functions[fn.Token]
			if !known {
				problems = append(problems, fn.Token+": not a function of the served schema")
			}
		}
		if known {
			for _, k := range sortedKeys(fn.Args) {
				if fs.Inputs == nil || !hasProp(fs.Inputs.Properties, k) {
					problems = append(problems, fmt.Sprintf("%s: arg %q is not declared", where, k))
				}
			}
			outs := functionOutputs(fs)
			for _, k := range fn.SecretResults {
				if outs == nil || !hasProp(outs.Properties, k) {
					problems = append(problems, fmt.Sprintf("%s: secret result %q is not declared", where, k))
				}
			}
		}
		refsOK(where+" args", fn.Args, all)
	}
	refsOK("config", f.Config, map[string]bool{})
	return problems, skip
}

func hasProp(ps map[string]schema.PropertySpec, k string) bool {
	_, ok := ps[k]
	return ok
}

// findBadDirectives reports "$" keys that are not a lone $secret, $ref or
// $env, and $env names that are not set (unless the fixture requires them:
// then the backend is absent, which the run reports as n/a).
func findBadDirectives(v any, out *[]string, required map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 1 {
			if inner, ok := v["$secret"]; ok {
				findBadDirectives(inner, out, required)
				return
			}
			if ref, ok := v["$ref"]; ok {
				if _, isString := ref.(string); !isString {
					*out = append(*out, "$ref must be a string")
				}
				return
			}
			if name, ok := v["$env"]; ok {
				if _, err := envValue(name); err != nil {
					if s, ok := name.(string); !ok || !required[s] {
						*out = append(*out, err.Error())
					}
				}
				return
			}
		}
		for _, k := range sortedKeys(v) {
			if strings.HasPrefix(k, "$") {
				*out = append(*out, fmt.Sprintf("unknown directive %q (only $secret, $ref and $env, each alone "+
					"in its object)", k))
				continue
			}
			findBadDirectives(v[k], out, required)
		}
	case []any:
		for _, e := range v {
			findBadDirectives(e, out, required)
		}
	}
}
