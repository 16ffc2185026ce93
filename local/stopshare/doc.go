// Package stopshare measures stopcoord's own share of a stop:
// a callback step's time from the stop request to its answer, cut into the
// hops stopcoord cannot avoid (SageMaker's transitions, SQS delivery, each
// cleaner's own time) and stopcoord's overhead, which is the rest.
//
// Two taps see the hops from outside stopcoord, so the figures do not take
// stopcoord's word for its own speed: SageMakerTap notes when a stop
// reached SageMaker, SQSTap when SageMaker's Stopping message was in the
// queue and when the queue's poller handed it to the callback function.
// Breakdown computes each step's path from what the taps, SageMaker and the
// ledger recorded; Summarize aggregates many paths for a run's report.
package stopshare
