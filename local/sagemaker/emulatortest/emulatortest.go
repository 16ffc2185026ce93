// Package emulatortest starts the SageMaker Pipelines emulator for a test:
// one call gives a listening emulator and a ready SageMaker client, and the
// emulator is closed when the test ends.
package emulatortest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/stopcoord/stopcoord/local/localaws"
	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
)

// Server is an emulator running for one test.
type Server struct {
	URL      string
	Emulator *emulator.Emulator
	Client   *sagemaker.Client
}

// StartT starts the emulator on a free 127.0.0.1 port and closes it (and
// every execution goroutine) in t.Cleanup.
func StartT(t testing.TB, opts emulator.Options) *Server {
	t.Helper()
	emu, err := emulator.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	url, err := emu.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// No deadline: on a busy machine delivering the queued events can
		// take long; a Close that never ends fails the test binary anyway.
		if err := emu.Close(context.Background()); err != nil {
			t.Errorf("close the sagemaker emulator: %v", err)
		}
	})
	cfg, err := localaws.Config(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	client := sagemaker.NewFromConfig(cfg, func(o *sagemaker.Options) { o.BaseEndpoint = aws.String(url) })
	return &Server{URL: url, Emulator: emu, Client: client}
}
