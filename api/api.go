// Package api holds the OpenAPI 3.1 document of the stop API
// (openapi.yaml), embedded so tests can hold the handlers to it.
package api

import _ "embed"

// OpenAPI is the document, as YAML.
//
//go:embed openapi.yaml
var OpenAPI []byte
