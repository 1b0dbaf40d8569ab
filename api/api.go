// Package api holds the OpenAPI document of the gateway's HTTP API, so that
// the gateway serves it and tests check the server against it.
package api

import _ "embed"

// OpenAPI is api/openapi.yaml, the OpenAPI 3 document of the HTTP API.
//
//go:embed openapi.yaml
var OpenAPI []byte
