//go:build tools

// Package deps pins the project's direct dependencies while the packages that
// use them are being written.
package deps

import (
	_ "github.com/getkin/kin-openapi/openapi3"
	_ "github.com/stretchr/testify/require"
	_ "go.temporal.io/api/enums/v1"
	_ "go.temporal.io/sdk/client"
	_ "go.temporal.io/sdk/contrib/envconfig"
	_ "go.temporal.io/sdk/testsuite"
	_ "go.uber.org/zap"
	_ "go.uber.org/zap/exp/zapslog"
	_ "golang.org/x/term"
)
