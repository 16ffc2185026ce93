package emulator

import (
	"crypto/rand"
	"fmt"
	"strings"
)

const (
	alnum      = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
)

// randomString draws n characters from alphabet with crypto/rand: callback
// tokens are the only credential a consumer needs to answer a step, so they
// must not be guessable.
func randomString(n int, alphabet string) string {
	// Rejection sampling keeps the distribution uniform.
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n*2)
	for len(out) < n {
		_, _ = rand.Read(buf) // never fails on supported platforms (Go 1.24+)
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}

// newCallbackToken is 10 characters [a-zA-Z0-9], the modeled CallbackToken.
func newCallbackToken() string { return randomString(10, alnum) }

// newExecutionID is 12 lowercase alphanumerics, as in every documented
// execution ARN (the format itself is undocumented; clients treat it as
// opaque).
func newExecutionID() string { return randomString(12, lowerAlnum) }

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (e *Emulator) pipelineARN(name string) string {
	return fmt.Sprintf("arn:aws:sagemaker:%s:%s:pipeline/%s", e.opts.Region, e.opts.AccountID, strings.ToLower(name))
}

func (e *Emulator) executionARN(pipelineName, id string) string {
	return e.pipelineARN(pipelineName) + "/execution/" + id
}

// jobARN names the job a simulated step "started", shaped like the jobs the
// real service starts: pipelines-<execution id>-<step name>-<suffix>, within
// the 63-character job name limit.
func (e *Emulator) jobARN(kind, executionID, stepName string) string {
	step := strings.Trim(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return '-'
	}, stepName), "-")
	name := "pipelines-" + executionID + "-" + step
	if len(name) > 52 {
		name = strings.TrimRight(name[:52], "-")
	}
	name += "-" + randomString(10, lowerAlnum)
	return fmt.Sprintf("arn:aws:sagemaker:%s:%s:%s/%s", e.opts.Region, e.opts.AccountID, kind, name)
}
