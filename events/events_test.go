package events_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"path"
	"testing"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	samples "github.com/stopcoord/stopcoord/events"
)

// TestEverySampleDecodesStrictly keeps the samples true to the events
// Lambda delivers: each decodes into its aws-lambda-go type with no field
// left over.
func TestEverySampleDecodesStrictly(t *testing.T) {
	decoders := map[string]func() any{
		"apigw":       func() any { return &lambdaevents.APIGatewayV2HTTPRequest{} },
		"sqs":         func() any { return &lambdaevents.SQSEvent{} },
		"eventbridge": func() any { return &lambdaevents.EventBridgeEvent{} },
		// A Lambda step's event is its resolved arguments: a flat object.
		"lambdastep": func() any { return &map[string]any{} },
	}
	n := 0
	err := fs.WalkDir(samples.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		newTarget, ok := decoders[path.Dir(p)]
		if !ok {
			t.Errorf("%s: no decoder for folder %s", p, path.Dir(p))
			return nil
		}
		raw, err := samples.FS.ReadFile(p)
		if err != nil {
			return err
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(newTarget()); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no samples embedded")
	}
}
