// Command schemagen writes the JSON Schema documents of the onboarding
// contract, one per input and result type, and an index of the workflow,
// signal, update and query names to them, into schemas/ (make schemas).
//
// The schemas are reflected from the Go types of package onboarding, with
// their doc comments as descriptions, so they cannot say anything the Go
// code does not; its test fails when the committed files have drifted.
//
// Reflection is hand-rolled rather than done with a library such as
// invopop/jsonschema: the contract is a dozen flat structs, and what matters
// here (omitzero, trailing field comments, durations as strings, sealed
// secrets, enums from other packages) would each need a library hook.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wa-onboarding/onboarding/internal/validate"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// An endpoint is one name a caller uses: the workflow type, a signal, an
// update or the query. Const is the Go constant naming it in
// onboarding/names.go; a nil Input or Result means none.
type endpoint struct {
	Kind   string // workflow, signal, update, query
	Const  string
	Name   string
	Input  reflect.Type
	Result reflect.Type
}

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

// endpoints is the contract. Its test checks it against names.go.
var endpoints = []endpoint{
	{"workflow", "WorkflowType", onboarding.WorkflowType, typeOf[onboarding.OnboardInput](), typeOf[onboarding.Status]()},
	{"signal", "SignalVerificationCode", onboarding.SignalVerificationCode, typeOf[onboarding.CodeInput](), nil},
	{"signal", "SignalResendCode", onboarding.SignalResendCode, typeOf[onboarding.ResendInput](), nil},
	{"signal", "SignalSkipWait", onboarding.SignalSkipWait, nil, nil},
	{"signal", "SignalNameUpdate", onboarding.SignalNameUpdate, typeOf[onboarding.NameUpdateInput](), nil},
	{"signal", "SignalWABAUpdate", onboarding.SignalWABAUpdate, typeOf[onboarding.WABAUpdateInput](), nil},
	{"update", "UpdateSubmitCode", onboarding.UpdateSubmitCode, typeOf[onboarding.CodeInput](), typeOf[onboarding.CodeResult]()},
	{"update", "UpdateChangeRegion", onboarding.UpdateChangeRegion, typeOf[onboarding.ChangeRegionInput](), typeOf[onboarding.OperationResult]()},
	{"update", "UpdateReregister", onboarding.UpdateReregister, nil, typeOf[onboarding.OperationResult]()},
	{"update", "UpdateDeregister", onboarding.UpdateDeregister, nil, typeOf[onboarding.OperationResult]()},
	{"update", "UpdateFixInput", onboarding.UpdateFixInput, typeOf[onboarding.FixInput](), typeOf[onboarding.Status]()},
	{"query", "QueryStatus", onboarding.QueryStatus, nil, typeOf[onboarding.Status]()},
}

// SealedSecretForm is how a sealed secret looks; the sealing itself is
// described in the README.
const SealedSecretForm = "sealed:v1:<key-id>:<base64url>"

// Schema is the subset of JSON Schema 2020-12 the contract uses, with its
// keys in a fixed order so that the generated files diff well.
type Schema struct {
	Schema               string     `json:"$schema,omitempty"`
	Ref                  string     `json:"$ref,omitempty"`
	Title                string     `json:"title,omitempty"`
	Description          string     `json:"description,omitempty"`
	Type                 string     `json:"type,omitempty"`
	Format               string     `json:"format,omitempty"`
	Pattern              string     `json:"pattern,omitempty"`
	MinLength            *int       `json:"minLength,omitempty"`
	MaxLength            *int       `json:"maxLength,omitempty"`
	Enum                 []string   `json:"enum,omitempty"`
	WriteOnly            bool       `json:"writeOnly,omitempty"`
	Examples             []string   `json:"examples,omitempty"`
	Items                *Schema    `json:"items,omitempty"`
	Properties           properties `json:"properties,omitempty"`
	Required             []string   `json:"required,omitempty"`
	AdditionalProperties *bool      `json:"additionalProperties,omitempty"`
	// Defs holds the nested struct types; encoding/json sorts map keys.
	Defs map[string]*Schema `json:"$defs,omitempty"`
}

type property struct {
	Name   string
	Schema *Schema
}

// properties keeps the struct's field order, which a map would lose.
type properties []property

func (ps properties) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(',')
		}
		v, err := marshal(p.Schema)
		if err != nil {
			return nil, err
		}
		b.WriteString(strconv.Quote(p.Name))
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshal is json.Marshal without HTML escaping, so "<key-id>" stays
// readable.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func indent(v any) ([]byte, error) {
	raw, err := marshal(v)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// docs are the doc comments of package onboarding: "Type" and
// "Type.Field" to text, "Const" for constants.
type docs map[string]string

func parseDocs(dir string) (docs, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	d := docs{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, spec := range gd.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					d[s.Name.Name] = text(s.Doc, gd.Doc)
					st, ok := s.Type.(*ast.StructType)
					if !ok {
						continue
					}
					for _, fl := range st.Fields.List {
						for _, n := range fl.Names {
							d[s.Name.Name+"."+n.Name] = text(fl.Doc, fl.Comment)
						}
					}
				case *ast.ValueSpec:
					// An unparenthesized const keeps its doc on the
					// declaration.
					var decl *ast.CommentGroup
					if !gd.Lparen.IsValid() {
						decl = gd.Doc
					}
					for _, n := range s.Names {
						d[n.Name] = text(s.Doc, s.Comment, decl)
					}
				}
			}
		}
	}
	return d, nil
}

// text is the first non-empty comment group as prose: lines of a paragraph
// joined, paragraphs separated by a blank line.
func text(groups ...*ast.CommentGroup) string {
	for _, g := range groups {
		t := strings.TrimSpace(g.Text())
		if t == "" {
			continue
		}
		paras := strings.Split(t, "\n\n")
		for i, p := range paras {
			paras[i] = strings.Join(strings.Fields(p), " ")
		}
		return strings.Join(paras, "\n\n")
	}
	return ""
}

var (
	durationType = typeOf[onboarding.Duration]()
	timeType     = typeOf[time.Time]()
	stageType    = typeOf[onboarding.Stage]()
	methodType   = typeOf[onboarding.CodeMethod]()
)

func ptr[T any](v T) *T { return &v }

// isSecret says which fields carry a secret: the PIN, an ownership code, a
// password. Matching on the JSON name means a secret added later is sealed
// in the schema without anyone remembering to list it.
func isSecret(jsonName string) bool {
	return jsonName == "pin" || jsonName == "code" ||
		strings.Contains(jsonName, "password") || strings.Contains(jsonName, "secret")
}

// fieldRules are the local checks of package validate that a schema can
// state, by JSON field name. The test checks them against validate.
var fieldRules = map[string]func(*Schema){
	"waba_id":        func(s *Schema) { s.Pattern = `^[0-9]{1,32}$` },
	"preverified_id": func(s *Schema) { s.Pattern = `^[0-9]{1,32}$` },
	"country_code":   func(s *Schema) { s.Pattern = `^[1-9][0-9]{0,2}$` },
	// With its country code (1 to 3 digits) the number has 8 to 15
	// digits: a schema sees one field, so it gets the widest envelope.
	"phone_number": func(s *Schema) { s.Pattern = `^[0-9]{5,14}$` },
	"language":     func(s *Schema) { s.Pattern = `^[a-z]{2}(_[A-Z]{2})?$` },
	"display_name": func(s *Schema) { s.MinLength, s.MaxLength = ptr(3), ptr(512) },
	"region": func(s *Schema) {
		s.Enum = append([]string{""}, validate.Regions...)
	},
}

type generator struct {
	docs  docs
	input bool // inputs refuse unknown properties, results do not
	defs  map[string]*Schema
}

func (g *generator) typeSchema(t reflect.Type) (*Schema, error) {
	switch t {
	case durationType:
		return &Schema{
			Type:     "string",
			Pattern:  onboarding.DurationPattern,
			Examples: []string{"24h", "90m", "1h30m"},
		}, nil
	case timeType:
		return &Schema{Type: "string", Format: "date-time"}, nil
	case typeOf[time.Duration]():
		// It would travel as integer nanoseconds, which other languages
		// cannot be expected to write.
		return nil, errors.New("time.Duration in the contract: use onboarding.Duration, which travels as a string")
	case stageType:
		return &Schema{Type: "string", Enum: stages()}, nil
	case methodType:
		return &Schema{Type: "string", Enum: []string{string(onboarding.CodeSMS), string(onboarding.CodeVoice)}}, nil
	}
	switch t.Kind() {
	case reflect.String:
		return &Schema{Type: "string"}, nil
	case reflect.Bool:
		return &Schema{Type: "boolean"}, nil
	case reflect.Int, reflect.Int32, reflect.Int64:
		return &Schema{Type: "integer"}, nil
	case reflect.Pointer:
		return g.typeSchema(t.Elem())
	case reflect.Slice:
		items, err := g.typeSchema(t.Elem())
		if err != nil {
			return nil, err
		}
		return &Schema{Type: "array", Items: items}, nil
	case reflect.Struct:
		if _, ok := g.defs[t.Name()]; !ok {
			g.defs[t.Name()] = nil // recursion guard
			s, err := g.object(t)
			if err != nil {
				return nil, err
			}
			g.defs[t.Name()] = s
		}
		return &Schema{Ref: "#/$defs/" + t.Name()}, nil
	}
	return nil, fmt.Errorf("%s: no JSON Schema mapping for kind %s", t, t.Kind())
}

func (g *generator) object(t reflect.Type) (*Schema, error) {
	s := &Schema{Type: "object", Description: g.docs[t.Name()]}
	if g.input {
		s.AdditionalProperties = ptr(false)
	}
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if !f.IsExported() || name == "-" || f.Anonymous {
			if f.IsExported() && name != "-" {
				return nil, fmt.Errorf("%s.%s: embedded fields are not supported", t.Name(), f.Name)
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		ps, err := g.typeSchema(f.Type)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t.Name(), f.Name, err)
		}
		desc := g.docs[t.Name()+"."+f.Name]
		if ps.Ref != "" {
			// A $ref with siblings is fine in 2020-12, but keep the
			// description on the field only when it says something.
			ps = &Schema{Ref: ps.Ref}
		}
		if rule, ok := fieldRules[name]; ok && ps.Type == "string" {
			rule(ps)
		}
		if isSecret(name) && ps.Type == "string" {
			ps.WriteOnly = true
			ps.Examples = []string{SealedSecretForm}
			desc = strings.TrimSpace("Sealed secret: a string " + SealedSecretForm + " (see the README). " + sentence(desc))
		}
		if f.Type == durationType {
			desc = strings.TrimSpace(desc + " A Go duration string such as \"24h\" or \"1h30m\"; integer nanoseconds are still read, for runs started before durations were strings.")
		}
		ps.Description = desc
		s.Properties = append(s.Properties, property{name, ps})
		optional := slices.Contains(strings.Split(opts, ","), "omitempty") || slices.Contains(strings.Split(opts, ","), "omitzero")
		if !optional {
			s.Required = append(s.Required, name)
		}
	}
	return s, nil
}

// sentence capitalizes a trailing field comment ("six digits; ...") so it
// reads after another sentence.
func sentence(s string) string {
	if s == "" || strings.HasSuffix(s, ".") {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

func stages() []string {
	out := make([]string, len(onboarding.Stages))
	for i, st := range onboarding.Stages {
		out[i] = string(st)
	}
	return out
}

// document is the schema of one top-level type, with its nested types in
// $defs.
func document(d docs, t reflect.Type, input bool) ([]byte, error) {
	g := &generator{docs: d, input: input, defs: map[string]*Schema{}}
	root, err := g.object(t)
	if err != nil {
		return nil, err
	}
	root.Schema = "https://json-schema.org/draft/2020-12/schema"
	root.Title = t.Name()
	if len(g.defs) > 0 {
		root.Defs = g.defs
	}
	return indent(root)
}

// Index is schemas/index.json: every name a caller uses, with the schema
// files of what it takes and returns ("" for none).
type Index struct {
	TaskQueue        string       `json:"task_queue"`
	WorkflowIDPrefix string       `json:"workflow_id_prefix"`
	WorkflowIDRule   string       `json:"workflow_id_rule"`
	Endpoints        []IndexEntry `json:"endpoints"`
}

// IndexEntry is one name of the contract.
type IndexEntry struct {
	Kind        string `json:"kind"`
	Name        string `json:"name"`
	Input       string `json:"input"`
	Result      string `json:"result"`
	Description string `json:"description"`
}

func file(t reflect.Type) string {
	if t == nil {
		return ""
	}
	return t.Name() + ".json"
}

// generate returns the contents of schemas/, by file name; root is the
// module's root directory, where the doc comments are read from.
func generate(root string) (map[string][]byte, error) {
	d, err := parseDocs(filepath.Join(root, "onboarding"))
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	inputs := map[reflect.Type]bool{}
	idx := Index{
		TaskQueue:        onboarding.TaskQueue,
		WorkflowIDPrefix: onboarding.WorkflowIDPrefix,
		WorkflowIDRule:   `"` + onboarding.WorkflowIDPrefix + `" then the number in E.164 with its '+': "` + onboarding.WorkflowID("1", "5551234567") + `" for country_code "1" and phone_number "5551234567"`,
	}
	for _, e := range endpoints {
		idx.Endpoints = append(idx.Endpoints, IndexEntry{
			Kind: e.Kind, Name: e.Name, Input: file(e.Input), Result: file(e.Result), Description: d[e.Const],
		})
		for t, input := range map[reflect.Type]bool{e.Input: true, e.Result: false} {
			if t == nil {
				continue
			}
			if was, seen := inputs[t]; seen && was != input {
				return nil, fmt.Errorf("%s is both an input and a result", t.Name())
			}
			inputs[t] = input
		}
	}
	for t, input := range inputs {
		b, err := document(d, t, input)
		if err != nil {
			return nil, err
		}
		out[file(t)] = b
	}
	b, err := indent(idx)
	if err != nil {
		return nil, err
	}
	out["index.json"] = b
	out["README.md"] = readme(idx)
	return out, nil
}

func readme(idx Index) []byte {
	var b bytes.Buffer
	b.WriteString("# Contract schemas\n\n")
	b.WriteString("Generated by `make schemas` (internal/schemagen) from package onboarding; do not edit.\n")
	b.WriteString("JSON Schema 2020-12, one file per type; [index.json](index.json) holds this table.\n\n")
	fmt.Fprintf(&b, "Task queue `%s`; workflow id %s.\n\n", idx.TaskQueue, strings.ReplaceAll(idx.WorkflowIDRule, `"`, "`"))
	b.WriteString("| kind | name | input | result | |\n|---|---|---|---|---|\n")
	link := func(f string) string {
		if f == "" {
			return "none"
		}
		return "[" + strings.TrimSuffix(f, ".json") + "](" + f + ")"
	}
	for _, e := range idx.Endpoints {
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s |\n", e.Kind, e.Name, link(e.Input), link(e.Result), e.Description)
	}
	b.WriteString("\nSecrets (`pin`, `code`, passwords) are sealed secrets: see \"Calling it from other languages\" in the top-level README.\n")
	return b.Bytes()
}

// moduleRoot finds the directory holding go.mod, from dir upwards.
func moduleRoot(dir string) (string, error) {
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

func main() {
	out := flag.String("out", "", "directory to write to (default: schemas/ in the module root)")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "schemagen:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	root, err := moduleRoot(wd)
	if err != nil {
		return err
	}
	if out == "" {
		out = filepath.Join(root, "schemas")
	}
	files, err := generate(root)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	// Files no longer generated are removed, so a renamed type leaves no
	// stale schema behind.
	old, _ := filepath.Glob(filepath.Join(out, "*.json"))
	for _, f := range old {
		if _, ok := files[filepath.Base(f)]; !ok {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(out, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
