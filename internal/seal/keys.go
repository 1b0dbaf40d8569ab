package seal

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/nacl/box"

	"github.com/wa-onboarding/onboarding/internal/keyid"
	"github.com/wa-onboarding/onboarding/internal/secretenv"
)

// Environment variables read by LoadOpener and LoadSealer, each also as
// NAME_FILE (see package secretenv).
const (
	// EnvPrivateKeys holds the workers' key pairs, oldest first:
	// "id1:base64private,id2:base64private". Only workers get it.
	EnvPrivateKeys = "WA_SEAL_PRIVATE_KEYS"
	// EnvPublicKeys holds the public keys that sealing processes (starter,
	// clients, API) seal to, oldest first; the last one seals:
	// "id1:base64public,id2:base64public".
	EnvPublicKeys = "WA_SEAL_PUBLIC_KEYS"
)

// ErrNoKeys is wrapped by LoadOpener and LoadSealer errors when the key
// variables are not set, so a caller can make sealing optional.
var ErrNoKeys = errors.New("seal: no keys configured")

// A PublicKey is a named X25519 public key that secrets are sealed to. It is
// not secret.
type PublicKey struct {
	ID  string
	Key [KeySize]byte
}

// String returns the key in the "id:base64" form of EnvPublicKeys.
func (k PublicKey) String() string { return k.ID + ":" + base64.StdEncoding.EncodeToString(k.Key[:]) }

// A PrivateKey is a named X25519 private key held by workers.
type PrivateKey struct {
	ID  string
	Key [KeySize]byte
}

// String prints the key id only, so that logging a PrivateKey by accident
// never prints it. Use Encode for the key itself.
func (k PrivateKey) String() string { return "seal.PrivateKey{ID: " + k.ID + "}" }

// GoString is String, for %#v.
func (k PrivateKey) GoString() string { return k.String() }

// Encode returns the key in the "id:base64" form of EnvPrivateKeys.
func (k PrivateKey) Encode() string {
	return k.ID + ":" + base64.StdEncoding.EncodeToString(k.Key[:])
}

// Public returns the public half of k.
func (k PrivateKey) Public() (PublicKey, error) {
	// crypto/ecdh applies the same X25519 clamping as nacl/box.
	priv, err := ecdh.X25519().NewPrivateKey(k.Key[:])
	if err != nil {
		return PublicKey{}, err
	}
	p := PublicKey{ID: k.ID}
	copy(p.Key[:], priv.PublicKey().Bytes())
	return p, nil
}

// GenerateKey returns a new random key pair named id.
func GenerateKey(id string) (PrivateKey, error) {
	if err := keyid.Check(id); err != nil {
		return PrivateKey{}, fmt.Errorf("seal: %w", err)
	}
	_, priv, err := box.GenerateKey(rand.Reader)
	if err != nil {
		return PrivateKey{}, fmt.Errorf("seal: generate key: %w", err)
	}
	return PrivateKey{ID: id, Key: *priv}, nil
}

// ParsePrivateKeys parses "id:base64" entries separated by commas or
// newlines; blank entries and lines starting with '#' are ignored. Keys are
// base64 (standard or URL alphabet, padded or not) of 32 bytes. Errors locate
// an entry by position and never quote it.
func ParsePrivateKeys(spec string) ([]PrivateKey, error) {
	var out []PrivateKey
	err := parseSpec("private key", spec, func(id string, key [KeySize]byte) {
		out = append(out, PrivateKey{ID: id, Key: key})
	})
	return out, err
}

// ParsePublicKeys parses public keys in the format of ParsePrivateKeys.
func ParsePublicKeys(spec string) ([]PublicKey, error) {
	var out []PublicKey
	err := parseSpec("public key", spec, func(id string, key [KeySize]byte) {
		out = append(out, PublicKey{ID: id, Key: key})
	})
	return out, err
}

func parseSpec(kind, spec string, add func(string, [KeySize]byte)) error {
	// Comment lines go first, whole: a comma inside one would otherwise
	// split it into entries.
	var entries []string
	for _, line := range strings.Split(spec, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			entries = append(entries, strings.Split(line, ",")...)
		}
	}
	seen := make(map[string]int)
	n := 0
	for i, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" || strings.HasPrefix(e, "#") {
			continue
		}
		where := fmt.Sprintf("%s entry %d", kind, i+1)
		id, enc, ok := strings.Cut(e, ":")
		if !ok {
			return fmt.Errorf("%s: want id:base64key, found no ':'", where)
		}
		id, enc = strings.TrimSpace(id), strings.TrimSpace(enc)
		if err := keyid.Check(id); err != nil {
			return fmt.Errorf("%s: %v", where, err)
		}
		if prev, dup := seen[id]; dup {
			return fmt.Errorf("%s: key id repeats the one in entry %d", where, prev)
		}
		seen[id] = i + 1
		key, err := decodeKey(enc)
		if err != nil {
			return fmt.Errorf("%s: %v", where, err)
		}
		add(id, key)
		n++
	}
	if n == 0 {
		return fmt.Errorf("no %ss found", kind)
	}
	return nil
}

func decodeKey(s string) ([KeySize]byte, error) {
	var k [KeySize]byte
	if s == "" {
		return k, errors.New("key is empty")
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(b) != KeySize {
			return k, fmt.Errorf("key must be exactly %d bytes after base64 decoding, got %d", KeySize, len(b))
		}
		copy(k[:], b)
		clear(b)
		return k, nil
	}
	return k, errors.New("key is not valid base64 (standard or URL alphabet)")
}

// LoadOpener builds the workers' Opener from EnvPrivateKeys or
// EnvPrivateKeysFile. Without either the error wraps ErrNoKeys.
func LoadOpener(getenv func(string) string, readFile func(string) ([]byte, error)) (*Opener, error) {
	sec, err := lookup(getenv, readFile, EnvPrivateKeys)
	if err != nil {
		return nil, err
	}
	keys, err := ParsePrivateKeys(sec.Value)
	if err != nil {
		return nil, fmt.Errorf("seal: %s: %w", sec.Source(), err)
	}
	return NewOpener(keys...)
}

// LoadSealer builds a Sealer from EnvPublicKeys or EnvPublicKeysFile. Without
// either the error wraps ErrNoKeys.
func LoadSealer(getenv func(string) string, readFile func(string) ([]byte, error)) (*Sealer, error) {
	sec, err := lookup(getenv, readFile, EnvPublicKeys)
	if err != nil {
		return nil, err
	}
	keys, err := ParsePublicKeys(sec.Value)
	if err != nil {
		return nil, fmt.Errorf("seal: %s: %w", sec.Source(), err)
	}
	return NewSealer(keys...)
}

func lookup(getenv func(string) string, readFile func(string) ([]byte, error), name string) (secretenv.Secret, error) {
	sec, err := secretenv.Lookup(getenv, readFile, name)
	switch {
	case errors.Is(err, secretenv.ErrNotSet):
		return sec, fmt.Errorf("%w: set %s or %s", ErrNoKeys, name, name+secretenv.FileSuffix)
	case err != nil:
		return sec, fmt.Errorf("seal: %w", err)
	}
	return sec, nil
}
