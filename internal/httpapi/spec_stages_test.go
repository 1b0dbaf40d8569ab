package httpapi_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/wa-onboarding/onboarding/internal/httpapi/apitest"
	"github.com/wa-onboarding/onboarding/onboarding"
)

// The spec's stage enums are the contract's: Stage lists every stage the
// status can show, RestingStage the ones a list can filter on.
func TestSpecStagesMatchTheContract(t *testing.T) {
	doc := apitest.Doc(t)
	enum := func(name string) []string {
		var out []string
		for _, v := range doc.Components.Schemas[name].Value.Enum {
			out = append(out, v.(string))
		}
		return out
	}
	var all, resting []string
	for _, s := range onboarding.Stages {
		all = append(all, string(s))
		if !s.Working() {
			resting = append(resting, string(s))
		}
	}
	assert.ElementsMatch(t, all, enum("Stage"))
	assert.ElementsMatch(t, resting, enum("RestingStage"))
}
