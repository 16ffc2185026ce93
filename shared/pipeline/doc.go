// Package pipeline is stopcoord's domain vocabulary for SageMaker Pipelines:
// execution ARNs, execution and step statuses and the order they move in,
// step kinds, callback tokens, deterministic request tokens and the coded
// errors every layer returns. It imports only the standard library.
package pipeline
