// Package seal protects individual secrets (two-step PINs, ownership codes,
// backup passwords) so that only workers can read them, even where the rest
// of a payload is readable.
//
// Payload encryption (package codec) keeps secrets away from the Temporal
// server, but the codec server decrypts whole payloads for Temporal UI and
// the temporal CLI, so every operator allowed to read histories would also
// read every secret in them. A sealed secret stays opaque through that
// decryption: it is encrypted, inside the payload, to public keys whose
// private halves only the workers hold.
//
// A sealed secret is a string
//
//	sealed:v1:<key-id>:<base64url>
//
// where the base64url part (unpadded) is an anonymous NaCl sealed box
// (X25519, XSalsa20-Poly1305; golang.org/x/crypto/nacl/box) of the secret,
// the purpose it was sealed for, and zero padding to a multiple of 32 bytes
// so that the length does not reveal the secret's length. The prefix lets
// the codec server and UI show the value as an opaque token and lets
// workflow code reject, with IsSealed, a secret that arrived in clear.
//
// Anyone holding a public key can seal, so sealing proves nothing about the
// sender; that is the job of the payload encryption and Temporal's own
// authorization. The purpose binds a sealed value to one field: a sealed
// PIN cannot be replayed as a backup password.
package seal

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/nacl/box"

	"github.com/wa-onboarding/onboarding/internal/keyid"
)

// Prefix starts every sealed value.
const Prefix = "sealed:v1:"

// KeySize is the length in bytes of public and private keys (X25519).
const KeySize = 32

const (
	// MaxSecretLen bounds the secrets Seal accepts; PINs, codes and backup
	// passwords are far shorter.
	MaxSecretLen = 4096
	// MaxPurposeLen bounds a purpose string.
	MaxPurposeLen = 64
	// padBlock is the granularity of the padded plaintext: every secret of
	// up to 29 bytes (with a 1-byte purpose) seals to the same length.
	padBlock = 32
	// maxInner is the largest padded plaintext: purpose length byte,
	// purpose, 2-byte secret length, secret, rounded up to padBlock.
	maxInner = (1 + MaxPurposeLen + 2 + MaxSecretLen + padBlock - 1) / padBlock * padBlock
	// minSealedLen and maxSealedLen bound the decoded box.
	minSealedLen = box.AnonymousOverhead + padBlock
	maxSealedLen = box.AnonymousOverhead + maxInner
	// maxQuotedPurpose bounds how much of the purpose a value was sealed
	// for is echoed into an ErrPurpose error (anyone holding a public key
	// can seal up to 255 bytes of purpose).
	maxQuotedPurpose = 64
)

var (
	// ErrNotSealed is returned by Open for a value that is not a sealed
	// value at all, typically a secret sent in clear. Its error never
	// quotes the value.
	ErrNotSealed = errors.New("seal: value is not sealed")
	// ErrUnknownKeyID is wrapped by Open errors for values sealed to a key
	// the Opener does not hold.
	ErrUnknownKeyID = errors.New("seal: unknown key id")
	// ErrAuthentication is returned by Open when a sealed value was
	// modified, truncated, or sealed to another key under the same id.
	ErrAuthentication = errors.New("seal: sealed value authentication failed")
	// ErrPurpose is wrapped by Open errors for a value sealed for another
	// purpose than the one asked for.
	ErrPurpose = errors.New("seal: sealed for another purpose")
)

var b64 = base64.RawURLEncoding

// A Sealer seals secrets to the newest of a set of worker public keys. It is
// immutable and safe for concurrent use.
type Sealer struct {
	keys []PublicKey
	rand io.Reader // nil means crypto/rand; tests make sealing repeatable
}

// NewSealer returns a Sealer holding keys, oldest first: the last key seals.
// Older keys are accepted so that the same key list can be given to every
// process; they are never used to seal.
func NewSealer(keys ...PublicKey) (*Sealer, error) {
	if len(keys) == 0 {
		return nil, errors.New("seal: a Sealer needs at least one public key")
	}
	seen := make(map[string]bool, len(keys))
	for i, k := range keys {
		if err := keyid.Check(k.ID); err != nil {
			return nil, fmt.Errorf("seal: public key %d: %w", i+1, err)
		}
		if seen[k.ID] {
			return nil, fmt.Errorf("seal: public key %d: key id %q is used twice", i+1, k.ID)
		}
		if err := usablePublicKey(k.Key); err != nil {
			return nil, fmt.Errorf("seal: public key %q: %w", k.ID, err)
		}
		seen[k.ID] = true
	}
	return &Sealer{keys: append([]PublicKey(nil), keys...)}, nil
}

// KeyID returns the id of the key that seals.
func (s *Sealer) KeyID() string { return s.keys[len(s.keys)-1].ID }

// IDs returns the ids of all keys, oldest first.
func (s *Sealer) IDs() []string {
	out := make([]string, len(s.keys))
	for i, k := range s.keys {
		out[i] = k.ID
	}
	return out
}

// String describes the Sealer by key ids.
func (s *Sealer) String() string {
	return fmt.Sprintf("seal.Sealer{seals_with: %q, ids: %q}", s.KeyID(), s.IDs())
}

// Seal returns secret sealed for purpose (a short label such as "pin" that
// Open must be given again). purpose must be 1 to MaxPurposeLen printable
// ASCII characters; secret may be empty and at most MaxSecretLen bytes.
func (s *Sealer) Seal(purpose, secret string) (string, error) {
	if err := validPurpose(purpose); err != nil {
		return "", err
	}
	if len(secret) > MaxSecretLen {
		return "", fmt.Errorf("seal: secret is %d bytes, more than the %d allowed", len(secret), MaxSecretLen)
	}
	n := 1 + len(purpose) + 2 + len(secret)
	inner := make([]byte, 0, (n+padBlock-1)/padBlock*padBlock)
	inner = append(inner, byte(len(purpose)))
	inner = append(inner, purpose...)
	inner = binary.BigEndian.AppendUint16(inner, uint16(len(secret)))
	inner = append(inner, secret...)
	inner = inner[:cap(inner)] // zero padding
	defer clear(inner)

	r := s.rand
	if r == nil {
		r = rand.Reader
	}
	k := s.keys[len(s.keys)-1]
	sealed, err := box.SealAnonymous(nil, inner, &k.Key, r)
	if err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	return Prefix + k.ID + ":" + b64.EncodeToString(sealed), nil
}

// An Opener opens values sealed to any of a set of worker key pairs. It is
// immutable and safe for concurrent use.
type Opener struct {
	ids  []string
	keys map[string]PrivateKey
	pubs map[string][KeySize]byte
}

// NewOpener returns an Opener holding keys. Keys are copied.
func NewOpener(keys ...PrivateKey) (*Opener, error) {
	if len(keys) == 0 {
		return nil, errors.New("seal: an Opener needs at least one private key")
	}
	o := &Opener{keys: make(map[string]PrivateKey, len(keys)), pubs: make(map[string][KeySize]byte, len(keys))}
	for i, k := range keys {
		if err := keyid.Check(k.ID); err != nil {
			return nil, fmt.Errorf("seal: private key %d: %w", i+1, err)
		}
		if _, dup := o.keys[k.ID]; dup {
			return nil, fmt.Errorf("seal: private key %d: key id %q is used twice", i+1, k.ID)
		}
		pub, err := k.Public()
		if err != nil {
			return nil, fmt.Errorf("seal: private key %q: %w", k.ID, err)
		}
		o.keys[k.ID] = k
		o.pubs[k.ID] = pub.Key
		o.ids = append(o.ids, k.ID)
	}
	return o, nil
}

// IDs returns the ids of all keys in configuration order.
func (o *Opener) IDs() []string { return append([]string(nil), o.ids...) }

// PublicKeys returns the public halves of the Opener's keys, in
// configuration order, for the processes that seal.
func (o *Opener) PublicKeys() []PublicKey {
	out := make([]PublicKey, len(o.ids))
	for i, id := range o.ids {
		out[i] = PublicKey{ID: id, Key: o.pubs[id]}
	}
	return out
}

// String describes the Opener by key ids only, so that logging it by
// accident never prints key material.
func (o *Opener) String() string { return fmt.Sprintf("seal.Opener{ids: %q}", o.ids) }

// GoString is String; it keeps %#v from printing the keys.
func (o *Opener) GoString() string { return o.String() }

// Open returns the secret in sealed, which must have been sealed for
// purpose to one of the Opener's keys. Errors wrap ErrNotSealed,
// ErrUnknownKeyID, ErrAuthentication or ErrPurpose and never contain the
// secret or the sealed value.
func (o *Opener) Open(purpose, sealed string) (string, error) {
	id, data, err := parse(sealed)
	if err != nil {
		return "", err
	}
	k, ok := o.keys[id]
	if !ok {
		return "", fmt.Errorf("%w %q (this worker holds %q)", ErrUnknownKeyID, id, o.ids)
	}
	pub := o.pubs[id]
	inner, ok := box.OpenAnonymous(nil, data, &pub, &k.Key)
	if !ok {
		return "", ErrAuthentication
	}
	defer clear(inner)
	// The box authenticated inner, so a malformed layout means a sealer
	// bug, not tampering; it is still reported without content.
	if len(inner) < 3 || int(inner[0]) > len(inner)-3 {
		return "", errors.New("seal: sealed value has a malformed layout")
	}
	got := string(inner[1 : 1+int(inner[0])])
	rest := inner[1+int(inner[0]):]
	n := int(binary.BigEndian.Uint16(rest))
	if n > len(rest)-2 {
		return "", errors.New("seal: sealed value has a malformed layout")
	}
	if got != purpose {
		return "", fmt.Errorf("%w: want %q, sealed for %q", ErrPurpose, purpose, quoteBounded(got))
	}
	return string(rest[2 : 2+n]), nil
}

// IsSealed reports whether s is a well-formed sealed value: the prefix, a
// valid key id and a base64url box of a possible length. It needs no key
// and is deterministic, so workflow code can use it to refuse secrets that
// arrived in clear; only Open proves that a value is genuine.
func IsSealed(s string) bool {
	_, _, err := parse(s)
	return err == nil
}

// KeyIDOf returns the key id of a sealed value, for logs and metrics, or
// ErrNotSealed.
func KeyIDOf(s string) (string, error) {
	id, _, err := parse(s)
	return id, err
}

// parse splits a sealed value into its key id and decoded box. Its errors
// never quote s: a value that fails to parse may be a secret in clear.
func parse(s string) (id string, data []byte, err error) {
	rest, ok := strings.CutPrefix(s, Prefix)
	if !ok {
		return "", nil, ErrNotSealed
	}
	id, enc, ok := strings.Cut(rest, ":")
	if !ok || keyid.Check(id) != nil {
		return "", nil, ErrNotSealed
	}
	if len(enc) < b64.EncodedLen(minSealedLen) || len(enc) > b64.EncodedLen(maxSealedLen) {
		return "", nil, ErrNotSealed
	}
	// The decoder skips '\r' and '\n', which would let two spellings of
	// one value pass; only the URL alphabet is accepted.
	for i := 0; i < len(enc); i++ {
		c := enc[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return "", nil, ErrNotSealed
		}
	}
	data, err = b64.Strict().DecodeString(enc)
	if err != nil || (len(data)-box.AnonymousOverhead)%padBlock != 0 {
		return "", nil, ErrNotSealed
	}
	return id, data, nil
}

// usablePublicKey rejects low-order points (such as all zeros), for which
// every shared secret is zero and a sealed box would protect nothing.
func usablePublicKey(k [KeySize]byte) error {
	pub, err := ecdh.X25519().NewPublicKey(k[:])
	if err != nil {
		return err
	}
	probe, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	if _, err := probe.ECDH(pub); err != nil {
		return errors.New("not a usable X25519 public key (low-order point)")
	}
	return nil
}

func validPurpose(p string) error {
	if p == "" || len(p) > MaxPurposeLen {
		return fmt.Errorf("seal: purpose must be 1 to %d characters", MaxPurposeLen)
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 0x21 || p[i] > 0x7e {
			return errors.New("seal: purpose must be printable ASCII without spaces")
		}
	}
	return nil
}

func quoteBounded(s string) string {
	if len(s) > maxQuotedPurpose {
		return s[:maxQuotedPurpose] + "..."
	}
	return s
}
