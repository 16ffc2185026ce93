// Package callback is the vocabulary of SageMaker callback messages: it
// parses the SQS message body SageMaker sends a callback step's queue, reads
// the cleanup plan and the worker a pipeline author names in the step's
// arguments, and defines the callback context stopcoord hands to workers and
// cleanup functions. It imports only the standard library and the domain.
package callback
