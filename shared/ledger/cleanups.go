package ledger

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// MaxCleanupHistory bounds the attempts a cleanup record keeps: the first
// ones and the latest. The attempt count goes on counting every attempt;
// the history only keeps an item far below DynamoDB's 400 KB however long
// a cleanup keeps failing.
const MaxCleanupHistory = 20

// maxReadableKey is the longest resource key kept readable in a sort key;
// longer ones (resource ids may be 2048 characters, a sort key must stay
// under 1024 bytes) are hashed.
const maxReadableKey = 512

// cleanupSortKey is the sort key of one resource's cleanup record.
func cleanupSortKey(token string, r pipeline.Resource) string {
	k := r.Key()
	if len(k) > maxReadableKey {
		sum := sha256.Sum256([]byte(k))
		k = "sha256:" + hex.EncodeToString(sum[:])
	}
	return skCleanPrefix + token + "#" + k
}

// RecordCleanup adds an attempt to the resource's cleanup record, creating
// it on the first, and returns the record with its attempt count. One
// round trip, and a second once the history is full: the latest attempt
// then replaces the last kept one.
//
// Each call writes a nonce of its own, and its writes are conditional on
// the record not carrying it yet: when the SDK sends a write again after
// a lost response, the attempt is counted once and the record returned as
// the first write left it.
func (l *Ledger) RecordCleanup(ctx context.Context, r pipeline.CleanupResult) (pipeline.Cleanup, error) {
	arn := r.ARN.String()
	subject := r.Token + " " + truncate(r.Resource.Key(), 120)
	at := r.At.UTC()
	attempt, err := marshal(pipeline.CleanupAttempt{At: at, Status: r.Status, Error: r.Error, Duration: r.Duration})
	if err != nil {
		return pipeline.Cleanup{}, wrap("encode cleanup of", subject, err)
	}
	nonce, err := attemptNonce()
	if err != nil {
		return pipeline.Cleanup{}, wrap("record cleanup of", subject, err)
	}
	lastAttempt := expression.Name("lastAttempt")
	notYet := expression.AttributeNotExists(lastAttempt).Or(lastAttempt.NotEqual(expression.Value(nonce)))
	history := expression.Name("history")
	entry := raw{&types.AttributeValueMemberM{Value: attempt}}
	// base builds the update afresh: builders share their state, and the
	// two writes below differ in how they touch the history.
	base := func() expression.UpdateBuilder {
		upd := expression.
			Set(expression.Name("executionArn"), expression.Value(arn)).
			Set(expression.Name("token"), expression.Value(r.Token)).
			Set(expression.Name("resource"), expression.Value(r.Resource)).
			Set(expression.Name("status"), expression.Value(string(r.Status))).
			Set(expression.Name("lastAt"), expression.Value(millis(at))).
			Set(expression.Name("firstAt"), expression.IfNotExists(expression.Name("firstAt"), expression.Value(millis(at)))).
			Set(expression.Name(TTLAttribute), expression.Value(l.expiry(at))).
			Set(lastAttempt, expression.Value(nonce)).
			Add(expression.Name("attempts"), expression.Value(1))
		if r.Error != "" {
			return upd.Set(expression.Name("lastError"), expression.Value(r.Error))
		}
		return upd.Remove(expression.Name("lastError"))
	}
	// Every attempt is recorded, and one update both counts it and appends
	// it while the history has room.
	k := key(arn, cleanupSortKey(r.Token, r.Resource))
	appendIt := base().Set(history, expression.ListAppend(expression.IfNotExists(history, expression.Value([]any{})), expression.Value([]any{entry})))
	room := expression.AttributeNotExists(history).Or(expression.Size(history).LessThan(expression.Value(MaxCleanupHistory))).And(notYet)
	out, err := l.update(ctx, k, appendIt, &room)
	if old, failed := conditionFailed(err); failed {
		if written(old, nonce) {
			out, err = old, nil
		} else { // the history is full
			replaceLast := base().Set(expression.Name(fmt.Sprintf("history[%d]", MaxCleanupHistory-1)), expression.Value(entry))
			out, err = l.update(ctx, k, replaceLast, &notYet)
			if old, failed := conditionFailed(err); failed && written(old, nonce) {
				out, err = old, nil
			}
		}
	}
	if err != nil {
		return pipeline.Cleanup{}, wrap("record cleanup of", subject, err)
	}
	var rec pipeline.Cleanup
	if err := unmarshal(out, &rec); err != nil {
		return pipeline.Cleanup{}, wrap("decode cleanup of", subject, err)
	}
	return rec, nil
}

// truncate shortens s to n bytes for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// attemptNonce names one RecordCleanup call.
func attemptNonce() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("attempt nonce: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// written reports whether the record as a failed condition found it
// already holds the attempt named by nonce.
func written(old map[string]types.AttributeValue, nonce string) bool {
	v, ok := old["lastAttempt"].(*types.AttributeValueMemberS)
	return ok && v.Value == nonce
}
