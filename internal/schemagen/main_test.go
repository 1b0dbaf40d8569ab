package main

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wa-onboarding/onboarding/internal/validate"
	"github.com/wa-onboarding/onboarding/onboarding"
)

func root(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	require.NoError(t, err)
	r, err := moduleRoot(wd)
	require.NoError(t, err)
	return r
}

// TestSchemasUpToDate regenerates the schemas in memory and compares them
// with the committed ones, so a change to a contract type or its doc
// comments cannot ship without its schema.
func TestSchemasUpToDate(t *testing.T) {
	r := root(t)
	want, err := generate(r)
	require.NoError(t, err)
	dir := filepath.Join(r, "schemas")
	for name, b := range want {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("schemas/%s is out of date with package onboarding: run `make schemas` and commit the result", name)
		}
	}
	have, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range have {
		if _, ok := want[e.Name()]; !ok {
			t.Errorf("schemas/%s is no longer generated: run `make schemas` to remove it", e.Name())
		}
	}
}

// TestEndpointsCoverNames checks the index against onboarding/names.go: a
// signal, update or query added there without a line in endpoints would
// be missing from the published contract.
func TestEndpointsCoverNames(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(root(t), "onboarding", "names.go"), nil, 0)
	require.NoError(t, err)
	consts := map[string]string{}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					consts[n.Name], _ = strconv.Unquote(lit.Value)
				}
			}
		}
	}
	byConst := map[string]endpoint{}
	for _, e := range endpoints {
		byConst[e.Const] = e
		v, ok := consts[e.Const]
		if assert.True(t, ok, "endpoint %s names no constant of names.go", e.Const) {
			assert.Equal(t, v, e.Name, e.Const)
		}
	}
	n := 0
	for name := range consts {
		if name == "WorkflowType" || strings.HasPrefix(name, "Signal") || strings.HasPrefix(name, "Update") || strings.HasPrefix(name, "Query") {
			n++
			_, ok := byConst[name]
			assert.True(t, ok, "%s is in names.go but not in schemagen's endpoints: add it with its input and result types", name)
		}
	}
	assert.Equal(t, len(endpoints), n)
}

// TestFieldRulesMatchValidate holds the patterns the schemas state to what
// package validate accepts, on values either side of each rule.
func TestFieldRulesMatchValidate(t *testing.T) {
	rule := func(field string) func(string) bool {
		s := &Schema{Type: "string"}
		fieldRules[field](s)
		return func(v string) bool {
			if s.Pattern != "" && !regexp.MustCompile(s.Pattern).MatchString(v) {
				return false
			}
			n := len([]rune(v))
			return (s.MinLength == nil || n >= *s.MinLength) && (s.MaxLength == nil || n <= *s.MaxLength)
		}
	}
	for _, tc := range []struct {
		field  string
		check  func(string) error
		values []string
	}{
		{"waba_id", func(v string) error { return validate.ID("f", v) }, []string{"1", "0123", "", "12a", strings.Repeat("9", 32), strings.Repeat("9", 33)}},
		{"preverified_id", func(v string) error { return validate.ID("f", v) }, []string{"42", "-1", " 42"}},
		{"country_code", func(v string) error { return validate.CountryCode("f", v) }, []string{"1", "44", "353", "0", "01", "1234", "+1", ""}},
		// The schema's envelope is what validate accepts with some
		// country code: the shortest with a 3-digit code, the longest
		// with a 1-digit one.
		{"phone_number", func(v string) error {
			if validate.PhoneNumber("f", "353", v) == nil {
				return nil
			}
			return validate.PhoneNumber("f", "1", v)
		}, []string{"5551234567", "123", "1234", "12345", strings.Repeat("5", 14), strings.Repeat("5", 15), "555-1234", ""}},
		{"language", func(v string) error { return validate.Language("f", v) }, []string{"en", "en_US", "pt_BR", "EN", "en-US", "en_us", "eng", ""}},
		{"display_name", func(v string) error { return validate.DisplayName("f", v) }, []string{"Acme", "Ac", "Äbc", strings.Repeat("é", 512), strings.Repeat("é", 513)}},
		{"region", func(v string) error { return validate.Region("f", v) }, []string{"", "CH", "DE", "FR", "ch"}},
	} {
		ok := rule(tc.field)
		if tc.field == "region" {
			s := &Schema{}
			fieldRules["region"](s)
			ok = func(v string) bool { return slices.Contains(s.Enum, v) }
		}
		for _, v := range tc.values {
			assert.Equal(t, tc.check(v) == nil, ok(v), "%s %q: validate and the schema disagree", tc.field, v)
		}
	}
}

// TestRulesFollowFieldsAddedLater checks the rules that apply to fields by
// type or JSON name, so that a field added to the contract later (such as
// a backup password) is described right without touching schemagen.
func TestRulesFollowFieldsAddedLater(t *testing.T) {
	type later struct {
		BackupPassword string              `json:"backup_password"`
		Every          onboarding.Duration `json:"every,omitempty"`
		When           time.Time           `json:"when,omitzero"`
		Stage          onboarding.Stage    `json:"stage"`
	}
	g := &generator{docs: docs{}, input: true, defs: map[string]*Schema{}}
	s, err := g.object(reflect.TypeFor[later]())
	require.NoError(t, err)
	require.Len(t, s.Properties, 4)
	pw, every, when, stage := s.Properties[0].Schema, s.Properties[1].Schema, s.Properties[2].Schema, s.Properties[3].Schema
	assert.True(t, pw.WriteOnly)
	assert.Contains(t, pw.Description, "Sealed secret")
	assert.Equal(t, onboarding.DurationPattern, every.Pattern)
	assert.Equal(t, "date-time", when.Format)
	assert.Contains(t, stage.Enum, string(onboarding.StageNeedsAttention))
	assert.Equal(t, []string{"backup_password", "stage"}, s.Required, "omitempty and omitzero fields are optional")
	assert.Equal(t, ptr(false), s.AdditionalProperties)

	type raw struct {
		Wait time.Duration `json:"wait"`
	}
	_, err = g.object(reflect.TypeFor[raw]())
	require.ErrorContains(t, err, "use onboarding.Duration")
}
