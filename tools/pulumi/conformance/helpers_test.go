package main

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

func TestStrictPortAcceptsOnlyADecimalPort(t *testing.T) {
	for line, ok := range map[string]bool{
		"12345": true, "12345\r": true, "": false, " 123": false, "banner": false, "0": false, "70000": false,
	} {
		if _, err := strictPort(line); (err == nil) != ok {
			t.Errorf("strictPort(%q): err %v, want ok=%v", line, err, ok)
		}
	}
}

func TestFixtureOrderAndDirectives(t *testing.T) {
	f, problems, err := parseFixtures([]byte(`{
	  "resources": {
	    "p:m:B": {"inputs": {"x": {"$secret": "hidden value"}}},
	    "p:m:A": {"inputs": {"y": {"$ref": "p:m:B.out.inner"}}, "invalid": [{"inputs": {"x": null}, "path": "x"}]}
	  }}`))
	if err != nil || len(problems) > 0 {
		t.Fatal(err, problems)
	}
	if f.Resources[0].Type != "p:m:B" || f.Resources[1].Type != "p:m:A" {
		t.Fatalf("order lost: %s, %s", f.Resources[0].Type, f.Resources[1].Type)
	}
	if got := f.Resources[1].Invalid[0].Paths; len(got) != 1 || got[0] != "x" {
		t.Fatalf("paths %v", got)
	}
	r := &resolver{outputs: map[string]property.Map{}}
	if _, err := r.object(f.Resources[1].Inputs); err == nil {
		t.Fatal("a $ref to a resource not created resolved")
	}
	x, err := r.object(f.Resources[0].Inputs)
	if err != nil || !x.Get("x").Secret() {
		t.Fatal("$secret lost", err)
	}
	r.outputs["p:m:B"] = property.NewMap(map[string]property.Value{
		"out": property.New(map[string]property.Value{"inner": property.New("v")}).WithSecret(true),
	})
	y, err := r.object(f.Resources[1].Inputs)
	if err != nil || !y.Get("y").Secret() || y.Get("y").AsString() != "v" {
		t.Fatalf("nested $ref into a secret output: %v %v", y.Get("y"), err)
	}
	if len(overlay(f.Resources[0].Inputs, map[string]any{"x": nil})) != 0 {
		t.Fatal("null did not remove the key")
	}
	if _, _, err := parseFixtures([]byte(`{"resources": {"p:m:A": {"inputz": {}}}}`)); err != nil {
		t.Fatal("a misspelt key should be a problem, not a fatal error")
	}
}

func TestRootKey(t *testing.T) {
	for path, want := range map[string]string{
		"a": "a", "subject.commonName": "subject", "dnsNames[0]": "dnsNames", `["a.b"].c`: "a.b",
	} {
		if got := rootKey(path); got != want {
			t.Errorf("rootKey(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestNeedlesSplitPEMBodiesButNotArmour(t *testing.T) {
	pem := "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB0123456789abcdefghij\n-----END EC PRIVATE KEY-----\n"
	got := needles(pem)
	if len(got) != 2 || got[1] != "MHcCAQEEIB0123456789abcdefghij" {
		t.Fatalf("needles: %q", got)
	}
}

func TestTypeCheckerKinds(t *testing.T) {
	spec := &schema.PackageSpec{Types: map[string]schema.ComplexTypeSpec{
		"p:m:T": {ObjectTypeSpec: schema.ObjectTypeSpec{Type: "object", Properties: map[string]schema.PropertySpec{
			"n": {TypeSpec: schema.TypeSpec{Type: "integer"}},
		}}},
	}}
	props := map[string]schema.PropertySpec{
		"s":   {TypeSpec: schema.TypeSpec{Type: "string"}},
		"l":   {TypeSpec: schema.TypeSpec{Type: "array", Items: &schema.TypeSpec{Type: "boolean"}}},
		"obj": {TypeSpec: schema.TypeSpec{Ref: "#/types/p:m:T"}},
	}
	var problems []string
	typeChecker{spec}.props("", property.NewMap(map[string]property.Value{
		"s":     property.New("x").WithSecret(true),
		"l":     property.New([]property.Value{property.New(true), property.New("no")}),
		"obj":   property.New(map[string]property.Value{"n": property.New(1.5)}),
		"extra": property.New(1.0),
	}), props, &problems)
	joined := strings.Join(problems, "; ")
	for _, want := range []string{"l[1] is string", "obj.n is 1.5", "extra is not declared"} {
		if !strings.Contains(joined, want) {
			t.Errorf("missing %q in %q", want, joined)
		}
	}
	if len(problems) != 3 {
		t.Errorf("problems: %q", problems)
	}
}

func TestLabelledEntriesShareATypeButNotAName(t *testing.T) {
	f, problems, err := parseFixtures([]byte(`{
	  "resources": {
	    "p:m:Mount": {"inputs": {"path": "a"}},
	    "p:m:Mount#second": {"inputs": {"path": "b"}},
	    "p:m:Use": {"inputs": {"from": {"$ref": "p:m:Mount#second.path"}}},
	    "p:m:Mount#": {"inputs": {}}
	  }}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || !strings.Contains(problems[0], "empty label") {
		t.Fatalf("problems %v, want one about the empty label", problems)
	}
	if len(f.Resources) != 3 || f.Resources[1].Type != "p:m:Mount" || f.Resources[1].Key != "p:m:Mount#second" {
		t.Fatalf("entries %+v", f.Resources)
	}
	spec := &schema.PackageSpec{Resources: map[string]schema.ResourceSpec{
		"p:m:Mount": {
			ObjectTypeSpec:  schema.ObjectTypeSpec{Properties: map[string]schema.PropertySpec{"path": {}}},
			InputProperties: map[string]schema.PropertySpec{"path": {}},
		},
		"p:m:Use": {InputProperties: map[string]schema.PropertySpec{"from": {}}},
	}}
	if problems, _ := validateFixtures(f, spec); len(problems) != 0 {
		t.Fatalf("a $ref to a labelled entry: %v", problems)
	}
}

func TestProvocationsAndRequirementsParse(t *testing.T) {
	t.Setenv("ZT_TEST_PRESENT", "http://127.0.0.1:1")
	f, problems, err := parseFixtures([]byte(`{
	  "requires": ["ZT_TEST_PRESENT", "ZT_TEST_SURELY_UNSET"],
	  "resources": {
	    "p:m:A": {"inputs": {"x": 1},
	      "slow": {"inputs": {"x": 2}, "arrange": [{"url": {"$env": "ZT_TEST_PRESENT"}, "body": {"n": 1}}]},
	      "panic": {"inputs": {"x": 3}}}
	  }}`))
	if err != nil || len(problems) > 0 {
		t.Fatal(err, problems)
	}
	a := f.Resources[0]
	if a.Slow == nil || a.Panic == nil || a.InitFailure != nil {
		t.Fatalf("provocations %+v %+v %+v", a.Slow, a.Panic, a.InitFailure)
	}
	if a.Slow.Arrange[0].Method != "POST" {
		t.Fatalf("default method %q", a.Slow.Arrange[0].Method)
	}
	url, err := plainJSON(a.Slow.Arrange[0].URL)
	if err != nil || url != "http://127.0.0.1:1" {
		t.Fatalf("url %v %v", url, err)
	}
	if got := f.missingRequirements(); len(got) != 1 || got[0] != "ZT_TEST_SURELY_UNSET" {
		t.Fatalf("missing %v", got)
	}
	// An unset variable the fixture requires is an absent backend, not a broken fixture.
	var bad []string
	findBadDirectives(map[string]any{"u": map[string]any{"$env": "ZT_TEST_SURELY_UNSET"}}, &bad,
		map[string]bool{"ZT_TEST_SURELY_UNSET": true})
	if len(bad) != 0 {
		t.Fatalf("required and unset: %v", bad)
	}
	findBadDirectives(map[string]any{"u": map[string]any{"$env": "ZT_TEST_SURELY_UNSET"}}, &bad, nil)
	if len(bad) != 1 {
		t.Fatalf("unset and not required: %v", bad)
	}
}

func TestPlainValueRefusesUnknowns(t *testing.T) {
	m := property.New(map[string]property.Value{"a": property.New(true), "b": property.New([]property.Value{
		property.New(1.5)})})
	plain, ok := plainValue(m)
	if !ok {
		t.Fatal("a known map is plain")
	}
	if got := plain.(map[string]any)["b"].([]any)[0]; got != 1.5 {
		t.Fatalf("nested number %v", got)
	}
	if _, ok := plainValue(property.New(map[string]property.Value{"a": property.New(property.Computed)})); ok {
		t.Fatal("an unknown inside must not be plain")
	}
}
