// Command sagemaker-emulator serves the SageMaker Pipelines emulator on a
// local address. The first line on stdout is "listening on <url>", so a
// harness can start it on port 0 and read where it went.
//
//	go run ./local/cmd/sagemaker-emulator -addr 127.0.0.1:0 -sqs-endpoint http://127.0.0.1:5055
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run wires the settings to the emulator and serves until ctx ends.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		if err == errHelp {
			return 0
		}
		fmt.Fprintf(stderr, "sagemaker-emulator: %v\n", err)
		return 2
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.logLevel}))
	cfg.opts.Logger = logger
	emu, err := emulator.New(cfg.opts)
	if err != nil {
		logger.Error("start the emulator", "error", err)
		return 1
	}
	url, err := emu.Start(cfg.addr)
	if err != nil {
		logger.Error("start the emulator", "error", err)
		return 1
	}
	fmt.Fprintf(stdout, "listening on %s\n", url)
	<-ctx.Done()
	closeCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := emu.Close(closeCtx); err != nil {
		logger.Error("close the emulator", "error", err)
		return 1
	}
	return 0
}
