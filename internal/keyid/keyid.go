// Package keyid holds the one rule for key ids shared by payload encryption
// keys (package codec) and sealing keys (package seal), so that one id
// scheme serves both kinds of keys.
package keyid

import (
	"errors"
	"fmt"
)

// MaxLen bounds key ids because they are written in clear into every
// payload and every sealed value.
const MaxLen = 64

// Check reports why id is not a valid key id: it must be 1 to MaxLen ASCII
// letters, digits, '.', '_' or '-'. Its errors never quote id.
func Check(id string) error {
	if id == "" {
		return errors.New("key id is empty")
	}
	if len(id) > MaxLen {
		return fmt.Errorf("key id is longer than %d characters", MaxLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return errors.New("key id may contain only ASCII letters, digits, '.', '_' and '-'")
		}
	}
	return nil
}
