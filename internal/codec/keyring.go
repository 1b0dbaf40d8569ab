package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/wa-onboarding/onboarding/internal/keyid"
	"github.com/wa-onboarding/onboarding/internal/secretenv"
)

// KeySize is the length in bytes of every key: AES-256.
const KeySize = 32

// Environment variables read by LoadKeys.
const (
	// EnvKeys holds a key spec: "id1:base64key,id2:base64key".
	EnvKeys = "WA_CODEC_KEYS"
	// EnvKeysFile names a file with one "id:base64key" per line.
	EnvKeysFile = EnvKeys + secretenv.FileSuffix
	// EnvPrimaryKeyID optionally names the key that encrypts, overriding
	// the "last key encrypts" rule so that a new key can be distributed to
	// every decoder before anyone encrypts with it.
	EnvPrimaryKeyID = "WA_CODEC_PRIMARY_KEY_ID"
)

// ErrNoKeys is returned by LoadKeys when neither EnvKeys nor EnvKeysFile is
// set.
var ErrNoKeys = errors.New("codec: no encryption keys configured: set " + EnvKeys + " or " + EnvKeysFile)

// A Key is one named AES-256 key.
type Key struct {
	// ID is written in clear into every payload the key encrypts, so
	// it must not itself be secret. It may contain ASCII letters, digits,
	// '.', '_' and '-', at most 64 characters.
	ID string
	// Secret is the raw 32-byte key.
	Secret []byte
}

// A Keyring is a set of AES-256-GCM keys identified by key id. The primary
// key encrypts; every key decrypts, which is what lets keys rotate without
// making older workflow histories unreadable.
//
// A Keyring is immutable and safe for concurrent use.
type Keyring struct {
	primary string
	ids     []string
	aeads   map[string]cipher.AEAD
}

// NewKeyring returns a keyring holding keys. The last key is the primary
// (encrypting) key. Secrets are copied.
func NewKeyring(keys ...Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("codec: keyring needs at least one key")
	}
	k := &Keyring{aeads: make(map[string]cipher.AEAD, len(keys))}
	for i, key := range keys {
		if err := keyid.Check(key.ID); err != nil {
			return nil, fmt.Errorf("codec: key %d: %w", i+1, err)
		}
		if _, dup := k.aeads[key.ID]; dup {
			return nil, fmt.Errorf("codec: key %d: key id %q is used twice", i+1, key.ID)
		}
		if len(key.Secret) != KeySize {
			return nil, fmt.Errorf("codec: key %q: key must be exactly %d bytes, got %d", key.ID, KeySize, len(key.Secret))
		}
		aead, err := newAEAD(key.Secret)
		if err != nil {
			return nil, fmt.Errorf("codec: key %q: %w", key.ID, err)
		}
		k.aeads[key.ID] = aead
		k.ids = append(k.ids, key.ID)
	}
	k.primary = k.ids[len(k.ids)-1]
	return k, nil
}

func newAEAD(secret []byte) (cipher.AEAD, error) {
	// aes.NewCipher copies the key schedule, so the caller's slice is not
	// retained.
	block, err := aes.NewCipher(secret)
	if err != nil {
		return nil, err
	}
	// NewGCMWithRandomNonce draws a fresh 96-bit nonce for every Seal and
	// prefixes it to the ciphertext, so nonce handling cannot be got wrong
	// here.
	return cipher.NewGCMWithRandomNonce(block)
}

// WithPrimary returns a copy of k whose primary key is id. It lets a new key
// be rolled out to every decoder first and made primary only afterwards.
func (k *Keyring) WithPrimary(id string) (*Keyring, error) {
	if _, ok := k.aeads[id]; !ok {
		if keyid.Check(id) != nil {
			return nil, errors.New("codec: primary key id is not one of the configured key ids")
		}
		return nil, fmt.Errorf("codec: primary key id %q is not one of the configured key ids", id)
	}
	c := *k
	c.primary = id
	return &c, nil
}

// PrimaryID returns the id of the key that encrypts.
func (k *Keyring) PrimaryID() string { return k.primary }

// IDs returns the ids of all keys in configuration order.
func (k *Keyring) IDs() []string { return append([]string(nil), k.ids...) }

// String describes the keyring by key ids only, so that logging a Keyring by
// accident never prints key material.
func (k *Keyring) String() string {
	return fmt.Sprintf("codec.Keyring{primary: %q, ids: %q}", k.primary, k.ids)
}

// GoString is String; it keeps %#v from printing the cipher state.
func (k *Keyring) GoString() string { return k.String() }

func (k *Keyring) aead(id string) (cipher.AEAD, bool) {
	a, ok := k.aeads[id]
	return a, ok
}

// ParseKeys parses a key spec of the form "id1:base64key,id2:base64key".
// Each key must decode (standard or URL base64, padded or not) to exactly 32
// bytes. The last key is the primary (encrypting) key. Empty entries and
// surrounding spaces are ignored.
//
// Errors identify an entry by its position and never quote its contents,
// since a malformed entry may be a key.
func ParseKeys(spec string) (*Keyring, error) {
	return parseEntries("key spec", "entry", strings.Split(spec, ","))
}

// LoadKeys builds a keyring from the environment: either EnvKeys, a spec as
// accepted by ParseKeys, or EnvKeysFile, the path of a file with one
// "id:base64key" per line where blank lines and lines starting with '#' are
// ignored. In both the last key is primary, unless EnvPrimaryKeyID names
// another configured key. Setting both EnvKeys and EnvKeysFile is an error,
// as is setting neither (ErrNoKeys); package secretenv reads them.
//
// env and readFile are typically os.Getenv and os.ReadFile.
func LoadKeys(env func(string) string, readFile func(string) ([]byte, error)) (*Keyring, error) {
	sec, err := secretenv.Lookup(env, readFile, EnvKeys)
	switch {
	case errors.Is(err, secretenv.ErrNotSet):
		return nil, ErrNoKeys
	case err != nil:
		return nil, fmt.Errorf("codec: %w", err)
	}
	var k *Keyring
	if sec.FromFile() {
		lines := strings.Split(sec.Value, "\n")
		for i, l := range lines {
			if strings.HasPrefix(strings.TrimSpace(l), "#") {
				lines[i] = ""
			}
		}
		k, err = parseEntries(sec.Source(), "line", lines)
	} else {
		k, err = parseEntries(sec.Source(), "entry", strings.Split(sec.Value, ","))
	}
	if err != nil {
		return nil, err
	}
	if p := strings.TrimSpace(env(EnvPrimaryKeyID)); p != "" {
		if k, err = k.WithPrimary(p); err != nil {
			return nil, fmt.Errorf("%s: %w", EnvPrimaryKeyID, err)
		}
	}
	return k, nil
}

// parseEntries parses "id:base64key" entries; unit ("entry", "line") and the
// 1-based index locate errors without quoting input.
func parseEntries(source, unit string, entries []string) (*Keyring, error) {
	var keys []Key
	seen := make(map[string]int)
	for i, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		where := fmt.Sprintf("codec: %s: %s %d", source, unit, i+1)
		id, b64, ok := strings.Cut(e, ":")
		if !ok {
			return nil, fmt.Errorf("%s: want id:base64key, found no ':'", where)
		}
		id, b64 = strings.TrimSpace(id), strings.TrimSpace(b64)
		if err := keyid.Check(id); err != nil {
			return nil, fmt.Errorf("%s: %v", where, err)
		}
		if prev, dup := seen[id]; dup {
			return nil, fmt.Errorf("%s: key id repeats the one in %s %d", where, unit, prev)
		}
		seen[id] = i + 1
		secret, err := decodeKey(b64)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", where, err)
		}
		keys = append(keys, Key{ID: id, Secret: secret})
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("codec: %s: no keys found", source)
	}
	return NewKeyring(keys...)
}

func decodeKey(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("key is empty")
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(b) != KeySize {
			return nil, fmt.Errorf("key must be exactly %d bytes after base64 decoding, got %d (generate one with: openssl rand -base64 32)", KeySize, len(b))
		}
		return b, nil
	}
	return nil, errors.New("key is not valid base64 (standard or URL alphabet)")
}

// GenerateKey returns a new random 32-byte key in standard base64, for use in
// a key spec.
func GenerateKey() (string, error) {
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("codec: generate key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}
