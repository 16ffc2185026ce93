// Package events holds the sample events, SAM style: one folder per source
// (apigw, sqs, eventbridge), each file a real event as Lambda delivers it.
// `make invoke FN=… EVENT=events/…` and `sam local invoke -e` use them, and
// every file is also a test fixture (tests import this package as samples).
package events

import "embed"

// FS holds every sample, by path ("apigw/stop.json").
//
//go:embed */*.json
var FS embed.FS
