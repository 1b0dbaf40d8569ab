package codecserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"github.com/wa-onboarding/onboarding/internal/seal"
)

// secretFields are the top-level fields of a JSON payload that /encode
// seals, with their purposes: the PIN of a start or fix input and the code
// of a code signal or update.
var secretFields = []struct{ name, purpose string }{
	{"pin", seal.PurposePIN},
	{"code", seal.PurposeOwnershipCode},
}

// backupField holds the backup of a migrating number, whose password field
// is sealed.
const backupField, backupPasswordField = "backup", "password"

// sealingCodec seals the secret fields of payloads before its inner codec
// encodes them. It is what lets callers in any language send secrets with
// the plain temporal CLI and --codec-endpoint: the CLI passes every payload
// it sends (start input, signal and update arguments) through /encode.
// Decode is the inner codec's: nothing sealed is ever opened here.
type sealingCodec struct {
	converter.PayloadCodec
	sealer *seal.Sealer
}

// Encode seals, then encodes.
func (c sealingCodec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		sealed, err := sealPayload(p, c.sealer)
		if err != nil {
			return nil, fmt.Errorf("payload %d: %w", i+1, err)
		}
		out[i] = sealed
	}
	return c.PayloadCodec.Encode(out)
}

// sealPayload returns p with the secret fields of its JSON object sealed, or
// p itself when it is not a JSON object or holds no secret field. Keys are
// matched as Go's encoding/json matches them to struct fields, without
// regard to case, since that is how the worker will read them.
func sealPayload(p *commonpb.Payload, s *seal.Sealer) (*commonpb.Payload, error) {
	if string(p.GetMetadata()[converter.MetadataEncoding]) != converter.MetadataEncodingJSON {
		return p, nil
	}
	if d := bytes.TrimLeft(p.GetData(), " \t\r\n"); len(d) == 0 || d[0] != '{' {
		return p, nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(p.GetData(), &obj) != nil {
		// Not valid JSON: not an input the worker could read either, so
		// it is left for the worker to refuse.
		return p, nil
	}
	found := false
	for key, v := range obj {
		for _, f := range secretFields {
			if strings.EqualFold(key, f.name) {
				sealed, err := sealValue(f.name, f.purpose, v, s)
				if err != nil {
					return nil, err
				}
				obj[key], found = sealed, true
			}
		}
		if strings.EqualFold(key, backupField) {
			sealed, ok, err := sealBackup(v, s)
			if err != nil {
				return nil, err
			}
			if ok {
				obj[key], found = sealed, true
			}
		}
	}
	if !found {
		return p, nil
	}
	// The object is written again even when every secret was already
	// sealed: a duplicate key in the original could hide a second,
	// clear, copy of the secret, and the map kept only one.
	data, err := marshal(obj)
	if err != nil {
		return nil, err
	}
	q := proto.Clone(p).(*commonpb.Payload)
	q.Data = data
	return q, nil
}

// sealBackup seals the password of a backup object; ok is false when v is
// not an object with a password field.
func sealBackup(v json.RawMessage, s *seal.Sealer) (json.RawMessage, bool, error) {
	var backup map[string]json.RawMessage
	if json.Unmarshal(v, &backup) != nil || backup == nil {
		return v, false, nil
	}
	found := false
	for key, pv := range backup {
		if strings.EqualFold(key, backupPasswordField) {
			sealed, err := sealValue(backupField+"."+backupPasswordField, seal.PurposeBackupPassword, pv, s)
			if err != nil {
				return nil, false, err
			}
			backup[key], found = sealed, true
		}
	}
	if !found {
		return v, false, nil
	}
	data, err := marshal(backup)
	return data, err == nil, err
}

// sealValue seals the JSON string v. null, "" (a field left unchanged) and
// values already sealed are kept as they are; any other JSON type is
// refused, since the worker could not read it as a string and would keep
// it, in clear, in history. Errors name the field, never the value.
func sealValue(field, purpose string, v json.RawMessage, s *seal.Sealer) (json.RawMessage, error) {
	if string(bytes.TrimSpace(v)) == "null" {
		return v, nil
	}
	var secret string
	if json.Unmarshal(v, &secret) != nil {
		return nil, fmt.Errorf("field %q must be a JSON string (in quotes)", field)
	}
	if secret == "" || seal.IsSealed(secret) {
		return v, nil
	}
	sealed, err := s.Seal(purpose, secret)
	if err != nil {
		return nil, fmt.Errorf("field %q: %w", field, err)
	}
	return marshal(sealed)
}

// marshal is json.Marshal without HTML escaping, so that the fields it
// copies keep their bytes ('<' stays '<').
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
