package stopcoord

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// ConsumedQueueProps configures a queue that a function consumes.
type ConsumedQueueProps struct {
	Consumer awslambda.IFunction
	// ConsumerTimeout is the consumer's function timeout: the visibility
	// timeout is six times it, as AWS advises, so a batch that is retried
	// inside one invocation is not delivered twice meanwhile.
	ConsumerTimeout awscdk.Duration
	BatchSize       float64
	// MaxReceiveCount is how many deliveries a message gets before it is
	// parked in the DLQ for a human.
	MaxReceiveCount float64
	// MaxConcurrency caps the concurrent invocations the event source makes
	// (0: unset).
	MaxConcurrency float64
}

// ConsumedQueue is a queue, its dead-letter queue and the event source.
type ConsumedQueue struct {
	constructs.Construct
	Queue awssqs.Queue
	DLQ   awssqs.Queue
}

// NewConsumedQueue builds an encrypted, TLS-only queue with a DLQ and wires
// it to its consumer with partial batch responses.
func NewConsumedQueue(scope constructs.Construct, id string, props *ConsumedQueueProps) *ConsumedQueue {
	c := constructs.NewConstruct(scope, &id)
	dlq := awssqs.NewQueue(c, jsii.String("DLQ"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)), // the longest SQS keeps: time for a human
	})
	q := awssqs.NewQueue(c, jsii.String("Queue"), &awssqs.QueueProps{
		Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(6 * *props.ConsumerTimeout.ToSeconds(nil))),
		DeadLetterQueue:   &awssqs.DeadLetterQueue{Queue: dlq, MaxReceiveCount: jsii.Number(props.MaxReceiveCount)},
	})
	source := &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(props.BatchSize),
		ReportBatchItemFailures: jsii.Bool(true),
	}
	if props.MaxConcurrency > 0 {
		source.MaxConcurrency = jsii.Number(props.MaxConcurrency)
	}
	props.Consumer.AddEventSource(awslambdaeventsources.NewSqsEventSource(q, source))
	return &ConsumedQueue{Construct: c, Queue: q, DLQ: dlq}
}

// deadLetterQueue builds an encrypted, TLS-only queue that holds what a
// function or EventBridge gave up on, for 14 days (the longest SQS keeps):
// time for a human. why tells cdk-nag (AwsSolutions-SQS3) why it has no
// DLQ of its own.
func deadLetterQueue(scope constructs.Construct, id, why string) awssqs.Queue {
	q := awssqs.NewQueue(scope, jsii.String(id), &awssqs.QueueProps{
		Encryption: awssqs.QueueEncryption_SQS_MANAGED, EnforceSSL: jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(q, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-SQS3"), Reason: jsii.String(why),
	}}, nil)
	return q
}
