package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
)

// CallbackTokenLength is the exact length of a callback token.
const CallbackTokenLength = 10

// ValidateCallbackToken checks a callback step token: exactly ten ASCII
// letters and digits.
func ValidateCallbackToken(token string) error {
	if len(token) != CallbackTokenLength {
		return Errorf(EInvalid, "callback token %q must be exactly %d characters", truncate(token, 40), CallbackTokenLength)
	}
	for i := 0; i < len(token); i++ {
		c := token[i]
		if !isAlnum(c) {
			return Errorf(EInvalid, "callback token %q must be letters and digits only", token)
		}
	}
	return nil
}

// Request token limits from the API's IdempotencyToken shape.
const (
	MinRequestTokenLength = 32
	MaxRequestTokenLength = 128
)

// RequestToken derives the ClientRequestToken for a SageMaker call from the
// action and what it acts on. Every delivery of the same event derives the
// same token, so SageMaker treats a retry as the call it already accepted;
// the SDK would otherwise fill in a random one. The result is 64 hex
// characters, inside the API's 32-128.
func RequestToken(action string, subjects ...string) string {
	h := sha256.New()
	h.Write([]byte(action))
	for _, s := range subjects {
		// A separator that cannot appear in ARNs or tokens keeps
		// ("ab","c") and ("a","bc") apart.
		h.Write([]byte{0})
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TokenRef names a callback token without revealing it: whoever holds a
// token can answer its step, so logs, errors and the status view show this
// reference instead ("tok-" and 12 hex digits of the token's SHA-256).
func TokenRef(token string) string {
	if token == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(token))
	return "tok-" + hex.EncodeToString(sum[:6])
}
