package keyid

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, id := range []string{"k1", "2026-01.prod_a", strings.Repeat("a", MaxLen)} {
		if err := Check(id); err != nil {
			t.Errorf("Check(%q) = %v, want nil", id, err)
		}
	}
	for _, id := range []string{"", strings.Repeat("a", MaxLen+1), "a:b", "a b", "é", "a/b"} {
		if err := Check(id); err == nil {
			t.Errorf("Check(%q) = nil, want an error", id)
		} else if id != "" && strings.Contains(err.Error(), id) {
			t.Errorf("Check(%q) error %q quotes the id", id, err)
		}
	}
}
