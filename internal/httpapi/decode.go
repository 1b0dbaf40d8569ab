package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wa-onboarding/onboarding/onboarding"
)

// decode reads r's JSON body into dst. An empty body is an error only when
// required. Refusals name the field; none quotes a value, since bodies
// carry PINs and codes.
func decode(w http.ResponseWriter, r *http.Request, dst any, limit int64, required bool) error {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return &problemError{status: http.StatusRequestEntityTooLarge, code: codeTooLarge,
				detail: "the body is larger than " + strconv.FormatInt(limit>>10, 10) + " KiB"}
		}
		return &problemError{status: http.StatusBadRequest, code: codeInvalidJSON, detail: "the body could not be read"}
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		if required {
			return &onboarding.InputError{Field: "body", Rule: "is required: a JSON object"}
		}
		return nil
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return &problemError{status: http.StatusUnsupportedMediaType, code: codeUnsupportedMedia,
			detail: "send the body as JSON with Content-Type: application/json"}
	}
	if err := json.Unmarshal(b, dst); err != nil {
		if ie, ok := errors.AsType[*onboarding.InputError](err); ok {
			return ie
		}
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			field := te.Field
			if field == "" {
				field = "body"
			}
			return &onboarding.InputError{Field: field, Rule: "must be " + kind(te.Type)}
		}
		detail := "the body is not valid JSON"
		if se, ok := errors.AsType[*json.SyntaxError](err); ok {
			detail += " (at byte " + strconv.FormatInt(se.Offset, 10) + ")"
		}
		return &problemError{status: http.StatusBadRequest, code: codeInvalidJSON, detail: detail}
	}
	return unknownField(b, reflect.TypeOf(dst), "")
}

// kind names what a Go type takes in JSON.
func kind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Float64:
		return "a number"
	case reflect.Struct, reflect.Pointer, reflect.Map:
		return "a JSON object"
	case reflect.Slice:
		return "an array"
	}
	return "a " + t.String()
}

var (
	durationType = reflect.TypeFor[onboarding.Duration]()
	timeType     = reflect.TypeFor[time.Time]()
)

// unknownField refuses object keys that are not fields of t: a misspelt
// optional field ("code_methd") would otherwise be dropped without a word.
// encoding/json's DisallowUnknownFields does not reach into types with an
// UnmarshalJSON method, such as OnboardInput, so the keys are checked here.
func unknownField(raw []byte, t reflect.Type, prefix string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == durationType || t == timeType {
		return nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return nil
	}
	fields := jsonFields(t)
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		ft, ok := fields[k]
		if !ok {
			return &onboarding.InputError{Field: prefix + k, Rule: "is not a field of this request"}
		}
		if err := unknownField(obj[k], ft, prefix+k+"."); err != nil {
			return err
		}
	}
	return nil
}

// jsonFields maps the JSON names of t's fields, embedded ones included, to
// their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					out[k] = v
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}
