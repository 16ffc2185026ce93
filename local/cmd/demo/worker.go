package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/lambdastep"
	"github.com/stopcoord/stopcoord/shared/pipeline"
	"github.com/stopcoord/stopcoord/shared/workerkit"
)

// worker is what a pipeline team's step worker does: it takes the callback
// context stopcoord hands it, starts the real work, and registers what it
// started against the token, so a stop can clean it up.
func (d *demo) worker(ctx context.Context) {
	for ctx.Err() == nil {
		out, err := d.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(d.workQueue), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			continue
		}
		for _, m := range out.Messages {
			cc, err := workerkit.ParseContext([]byte(aws.ToString(m.Body)))
			if err != nil {
				d.fail("worker got a message that is not a callback context: %v", err)
				continue
			}
			if err := d.startWork(ctx, cc); err != nil {
				d.fail("worker for %s: %v", cc.StepName, err)
				continue
			}
			d.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(d.workQueue), ReceiptHandle: m.ReceiptHandle})
		}
	}
}

func (d *demo) startWork(ctx context.Context, cc callback.Context) error {
	var resources []pipeline.Resource
	switch cc.Arguments["job"] {
	case "sfn":
		sm, err := d.sfn.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
			Name:       aws.String("demo-etl"),
			Definition: aws.String(`{"StartAt":"Work","States":{"Work":{"Type":"Wait","Seconds":3600,"End":true}}}`),
			RoleArn:    aws.String("arn:aws:iam::" + account + ":role/demo-sfn"),
		})
		if err != nil {
			return fmt.Errorf("create state machine: %w", err)
		}
		ex, err := d.sfn.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Name: aws.String("run-" + cc.Token)})
		if err != nil {
			return fmt.Errorf("start execution: %w", err)
		}
		d.mu.Lock()
		d.sfnExecution = aws.ToString(ex.ExecutionArn)
		d.mu.Unlock()
		resources = append(resources, pipeline.Resource{Kind: "sfn-execution", ID: aws.ToString(ex.ExecutionArn)})
	case "glue":
		if _, err := d.glue.CreateJob(ctx, &glue.CreateJobInput{Name: aws.String("demo-features"), Role: aws.String("arn:aws:iam::" + account + ":role/demo-glue"),
			Command: &gluetypes.JobCommand{Name: aws.String("glueetl"), ScriptLocation: aws.String("s3://demo/features.py")}}); err != nil {
			return fmt.Errorf("create glue job: %w", err)
		}
		run, err := d.glue.StartJobRun(ctx, &glue.StartJobRunInput{JobName: aws.String("demo-features")})
		if err != nil {
			return fmt.Errorf("start glue job run: %w", err)
		}
		d.mu.Lock()
		d.glueRunID = aws.ToString(run.JobRunId)
		d.mu.Unlock()
		resources = append(resources, pipeline.Resource{Kind: "glue-job-run", ID: aws.ToString(run.JobRunId), Params: map[string]string{"jobName": "demo-features"}})
	case "external":
		// Nothing AWS-side to stop: the step's arguments name a cleanup
		// Lambda that knows how to stop the external job.
	default:
		return fmt.Errorf("unknown job %v", cc.Arguments["job"])
	}
	if len(resources) > 0 {
		if err := d.register(ctx, cc, resources); err != nil {
			return err
		}
	}
	d.registered.Store(cc.StepName, resources)
	return nil
}

// register is the worker's call to PUT /callbacks/{token}/resources,
// through the helper workers use (SigV4-signed; the local gateway takes
// any signature).
func (d *demo) register(ctx context.Context, cc callback.Context, resources []pipeline.Resource) error {
	kit, err := workerkit.NewWithConfig(d.st.GatewayURL, d.st.AWS, nil)
	if err != nil {
		return err
	}
	if _, err := kit.Register(ctx, cc, resources...); err != nil {
		return fmt.Errorf("register resources: %w", err)
	}
	return nil
}

// cleanupLambda stands in for the function the RunExternalJob step names
// in stopcoord_cleanup_lambda: it would cancel the external job.
func (d *demo) cleanupLambda(_ context.Context, payload []byte) ([]byte, error) {
	var cc callback.Context
	if err := json.Unmarshal(payload, &cc); err != nil || cc.Token == "" {
		d.fail("the cleanup Lambda got %s, not a callback context", payload)
	}
	d.cleanupFirst.CompareAndSwap(0, time.Now().UnixNano())
	d.cleanupCalls.Add(1)
	return []byte(`{"cancelled":true}`), nil
}

// cleanupCalled is when the cleanup Lambda was first called; zero if never.
func (d *demo) cleanupCalled() time.Time {
	if n := d.cleanupFirst.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// scoreStep is the Lambda step's function. SageMaker cannot stop a Lambda
// step, so it watches its execution with shared/lambdastep and ends its
// work early once the execution is stopping.
func (d *demo) scoreStep(w http.ResponseWriter, r *http.Request) {
	d.scoreCalls.Add(1)
	var ev struct {
		ExecutionARN string `json:"executionArn"`
	}
	json.NewDecoder(r.Body).Decode(&ev)
	ctx, cancel := lambdastep.Watch(r.Context(), d.sm, ev.ExecutionARN, 500*time.Millisecond)
	defer cancel()
	select {
	case <-ctx.Done(): // stopping: wrap up
	case <-time.After(90 * time.Second): // the work itself
	}
	w.Write([]byte(`{"score":"0.93"}`))
}
