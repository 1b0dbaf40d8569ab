// Package codec encrypts Temporal payloads with AES-256-GCM so that secrets
// in workflow inputs, results, signals, updates, queries, memos and failures
// (two-step PINs, ownership codes) never reach the Temporal server, and so
// its history and UI, in clear.
//
// The payload format follows the Temporal samples-go encryption sample: the
// whole original payload, metadata included, is serialized with
// proto.Marshal and sealed; the result carries the metadata
// "encoding: binary/encrypted" and "encryption-key-id: <id>".
package codec

import (
	"errors"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

// Payload metadata written by the codec.
const (
	// MetadataEncodingEncrypted is the value of the "encoding" metadata of
	// an encrypted payload.
	MetadataEncodingEncrypted = "binary/encrypted"
	// MetadataEncryptionKeyID is the metadata key naming the key that
	// encrypted a payload.
	MetadataEncryptionKeyID = "encryption-key-id"
)

var (
	// ErrUnknownKeyID is wrapped by Decode errors for payloads encrypted
	// with a key the keyring does not hold.
	ErrUnknownKeyID = errors.New("codec: unknown key id")
	// ErrAuthentication is returned by Decode when a payload's ciphertext
	// was tampered with, truncated, or sealed under a different key id.
	ErrAuthentication = errors.New("codec: payload authentication failed")
	// ErrMissingKeyID is returned by Decode for an encrypted payload without
	// MetadataEncryptionKeyID.
	ErrMissingKeyID = errors.New("codec: encrypted payload has no " + MetadataEncryptionKeyID + " metadata")
)

// maxQuotedKeyID bounds how much of an unknown, attacker-controlled key id is
// echoed into an error.
const maxQuotedKeyID = 64

type payloadCodec struct {
	keys *Keyring
}

// NewCodec returns a converter.PayloadCodec that encrypts every payload with
// the primary key of k and decrypts payloads sealed with any key of k.
// Payloads that are not encrypted pass through Decode unchanged, so
// histories written before encryption was enabled stay readable.
func NewCodec(k *Keyring) converter.PayloadCodec {
	if k == nil {
		panic("codec: NewCodec called with nil Keyring")
	}
	return &payloadCodec{keys: k}
}

// Encode implements converter.PayloadCodec.
func (c *payloadCodec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	id := c.keys.primary
	aead, _ := c.keys.aead(id)
	ad := []byte(id)
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("codec: marshal payload: %w", err)
		}
		// The key id is the additional data: relabelling a payload with
		// another key id, even one whose key happens to match, fails
		// authentication.
		sealed := aead.Seal(nil, nil, plain, ad)
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(MetadataEncodingEncrypted),
				MetadataEncryptionKeyID:    []byte(id),
			},
			Data: sealed,
		}
	}
	return out, nil
}

// Decode implements converter.PayloadCodec.
func (c *payloadCodec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != MetadataEncodingEncrypted {
			out[i] = p
			continue
		}
		idb, ok := p.Metadata[MetadataEncryptionKeyID]
		if !ok || len(idb) == 0 {
			return nil, ErrMissingKeyID
		}
		id := string(idb)
		aead, ok := c.keys.aead(id)
		if !ok {
			if len(id) > maxQuotedKeyID {
				id = id[:maxQuotedKeyID] + "..."
			}
			return nil, fmt.Errorf("%w %q", ErrUnknownKeyID, id)
		}
		plain, err := aead.Open(nil, nil, p.Data, idb)
		if err != nil {
			return nil, ErrAuthentication
		}
		var dec commonpb.Payload
		if err := proto.Unmarshal(plain, &dec); err != nil {
			// Authenticated but not a payload: written by something
			// else holding our key, not by this codec.
			return nil, fmt.Errorf("codec: decrypted data is not a payload: %w", err)
		}
		out[i] = &dec
	}
	return out, nil
}

// NewDataConverter returns the SDK's default data converter wrapped with the
// encrypting codec of k.
func NewDataConverter(k *Keyring) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), NewCodec(k))
}

// ClientOptions returns the data and failure converters every Temporal client
// of this project (worker, starter, client package) must use, so that one
// line wires encryption in:
//
//	opts.DataConverter, opts.FailureConverter = codec.ClientOptions(keys)
//
// The failure converter serializes failure details with the data converter
// and also moves failure messages and stack traces into encoded attributes,
// where it encrypts them. Without it an error message such as "invalid PIN
// 012345" would be stored in clear.
func ClientOptions(k *Keyring) (converter.DataConverter, converter.FailureConverter) {
	dc := NewDataConverter(k)
	return dc, temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter:          dc,
		EncodeCommonAttributes: true,
	})
}
