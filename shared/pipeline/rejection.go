package pipeline

import "time"

// MaxExcerptBytes bounds the part of a rejected body kept with the
// rejection: enough to see what was wrong, small enough for one item.
const MaxExcerptBytes = 4 << 10

// Rejection is a callback message that could not be acted on, kept so an
// operator can see why before the redrive policy parks it in the DLQ.
type Rejection struct {
	MessageID    string    `dynamodbav:"messageId"`
	Source       string    `dynamodbav:"source,omitempty"` // the queue ARN
	Reason       string    `dynamodbav:"reason"`
	Excerpt      string    `dynamodbav:"excerpt"` // the body's first MaxExcerptBytes
	ReceiveCount int       `dynamodbav:"receiveCount"`
	At           time.Time `dynamodbav:"at"`
}

// Excerpt cuts a body to MaxExcerptBytes without splitting a UTF-8
// sequence.
func Excerpt(body string) string {
	if len(body) <= MaxExcerptBytes {
		return body
	}
	cut := MaxExcerptBytes
	for cut > 0 && body[cut]&0xC0 == 0x80 {
		cut--
	}
	return body[:cut]
}
