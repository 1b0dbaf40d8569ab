// Package secretenv reads a secret from an environment variable NAME or from
// the file named by NAME_FILE, the convention of Docker and Kubernetes
// secret mounts, with one set of rules and one error style for every
// process of the project.
//
// The rules:
//
//   - Set at most one of NAME and NAME_FILE; both is an error. A variable
//     set to the empty string counts as not set, so that compose files can
//     write NAME: ${NAME:-}.
//   - Surrounding white space is removed from the value, in particular the
//     trailing newline that editors, echo and kubectl create secret
//     --from-file leave in files. None of the project's secrets (tokens,
//     base64 keys) can begin or end with a space.
//   - A file that is empty after trimming is an error, not "not set": a
//     mounted but empty secret is a deployment mistake worth stopping for.
//   - Errors name the variable and, for NAME_FILE, the path; they never
//     contain the value.
//   - File permissions are not checked. Kubernetes mounts secret volumes
//     with mode 0644 by default and Docker and Compose secrets are 0444, so
//     refusing group- or world-readable files would reject the usual
//     deployments while protecting nothing inside a single-purpose
//     container. Outside containers keep such files at mode 0600.
package secretenv

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// FileSuffix is appended to a variable's name to form the name of the
// variable holding the path of a file with the secret.
const FileSuffix = "_FILE"

// ErrNotSet is wrapped by Lookup's error when neither NAME nor NAME_FILE is
// set, so that callers can treat an optional secret as absent.
var ErrNotSet = errors.New("not set")

// A Secret is a value read by Lookup.
type Secret struct {
	// Value is the secret, surrounding white space removed; never empty.
	Value string
	// Var is the variable that supplied it: NAME or NAME_FILE.
	Var string
	// File is the path the value was read from, or "" if it came from
	// NAME itself.
	File string
}

// FromFile reports whether the value was read from a file.
func (s Secret) FromFile() bool { return s.File != "" }

// Source describes where the value came from for error messages: "NAME" or
// "NAME_FILE /path". It never contains the value.
func (s Secret) Source() string {
	if s.File != "" {
		return s.Var + " " + s.File
	}
	return s.Var
}

// String hides the value so that logging a Secret by accident prints only
// its source.
func (s Secret) String() string { return "secretenv.Secret{" + s.Source() + "}" }

// GoString is String, for %#v.
func (s Secret) GoString() string { return s.String() }

// Lookup reads the secret NAME from getenv(name) or from the file whose
// path is getenv(name+"_FILE"), read with readFile. getenv and readFile are
// typically os.Getenv and os.ReadFile.
//
// If neither variable is set the error wraps ErrNotSet.
func Lookup(getenv func(string) string, readFile func(string) ([]byte, error), name string) (Secret, error) {
	fileVar := name + FileSuffix
	value, path := strings.TrimSpace(getenv(name)), strings.TrimSpace(getenv(fileVar))
	switch {
	case value != "" && path != "":
		return Secret{}, fmt.Errorf("both %s and %s are set; set only one", name, fileVar)
	case value != "":
		return Secret{Value: value, Var: name}, nil
	case path == "":
		return Secret{}, fmt.Errorf("%s or %s: %w", name, fileVar, ErrNotSet)
	}
	b, err := readFile(path)
	if err != nil {
		// The path is already in the message; keep the errno text only.
		if pe, ok := errors.AsType[*fs.PathError](err); ok {
			err = pe.Err
		}
		return Secret{}, fmt.Errorf("%s: cannot read %s: %w", fileVar, path, err)
	}
	value = strings.TrimSpace(string(b))
	if value == "" {
		return Secret{}, fmt.Errorf("%s: %s is empty", fileVar, path)
	}
	return Secret{Value: value, Var: fileVar, File: path}, nil
}
