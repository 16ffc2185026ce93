package main

import (
	"context"
	"errors"
)

func (c *cli) doctor(ctx context.Context, args []string) (int, error) {
	return exitError, errors.New("not yet")
}
