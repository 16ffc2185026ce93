package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/pipeline"
	"github.com/stopcoord/stopcoord/shared/workerkit"
)

// work is what a worker did for one callback token.
type work struct {
	arn, step, token, kind string
	handedOver             int // how often stopcoord handed this token to a worker
	resource               *pipeline.Resource
	// registration is "registered", "refused" (the token was answered
	// already; the worker cleaned up itself) or "failed: ..." (the API
	// never took it).
	registration string
	registeredAt time.Time
	done         bool
}

// workers is the pipeline team's worker pool: it takes each callback
// context stopcoord hands over on the work queue, starts the real work and
// registers what it started against the token.
type workers struct {
	c  *chaos
	mu sync.Mutex
	by map[string]*work // token -> work
}

func (w *workers) run(ctx context.Context) {
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	defer wg.Wait()
	for ctx.Err() == nil {
		out, err := w.c.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(w.c.workQueue), MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 300})
		if err != nil {
			continue
		}
		for _, m := range out.Messages {
			cc, err := workerkit.ParseContext([]byte(aws.ToString(m.Body)))
			if err != nil {
				w.c.harnessProblem("worker got a message that is not a callback context: %v", err)
				continue
			}
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				w.handle(ctx, cc)
				w.c.sqs.DeleteMessage(context.WithoutCancel(ctx), &sqs.DeleteMessageInput{QueueUrl: aws.String(w.c.workQueue), ReceiptHandle: m.ReceiptHandle})
			}()
		}
	}
}

func (w *workers) handle(ctx context.Context, cc callback.Context) {
	step, _ := cc.Arguments["step"].(string)
	w.mu.Lock()
	if old, ok := w.by[cc.Token]; ok {
		old.handedOver++ // a repeated hand-over: a worker does the work once
		w.mu.Unlock()
		return
	}
	wk := &work{arn: cc.ExecutionARN, step: step, token: cc.Token, handedOver: 1}
	w.by[cc.Token] = wk
	w.mu.Unlock()

	x := w.c.waitExecution(ctx, cc.ExecutionARN)
	if x == nil {
		w.c.harnessProblem("worker: token %s names execution %s, which the run did not start", cc.Token, cc.ExecutionARN)
		return
	}
	var idx int
	fmt.Sscanf(step, "Callback%d", &idx)
	kind := "none"
	if idx >= 1 && idx <= len(x.kinds) {
		kind = x.kinds[idx-1]
	}
	if x.i == w.c.abandonAt && idx == 1 {
		kind = brokenCleanup
	}
	w.set(cc.Token, func(wk *work) { wk.kind = kind })

	if x.script.trigger == trigNone {
		w.answerSuccess(ctx, cc)
		w.set(cc.Token, func(wk *work) { wk.done = true })
		return
	}
	late := x.script.late && idx == 1 && w.c.opts.faults.lateRegister
	if late {
		w.set(cc.Token, func(wk *work) { wk.done = true }) // it does not hold up the start of the stops
		w.c.waitStopping(ctx, cc.ExecutionARN, 90*time.Second)
		w.c.sleepRand(ctx, 1500*time.Millisecond)
	}
	res, err := w.start(ctx, kind, cc.Token)
	if err != nil {
		w.c.harnessProblem("worker for %s %s: start %s: %v", cc.ExecutionARN, step, kind, err)
		w.set(cc.Token, func(wk *work) { wk.done = true })
		return
	}
	outcome := w.register(ctx, cc, res)
	if outcome == "refused" {
		w.cleanItself(context.WithoutCancel(ctx), res)
	}
	w.set(cc.Token, func(wk *work) {
		wk.resource, wk.registration, wk.registeredAt, wk.done = &res, outcome, time.Now(), true
	})
}

func (w *workers) set(token string, f func(*work)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f(w.by[token])
}

// all returns a copy of every token's work.
func (w *workers) all() []work {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]work, 0, len(w.by))
	for _, wk := range w.by {
		cp := *wk
		if wk.resource != nil {
			r := *wk.resource
			cp.resource = &r
		}
		out = append(out, cp)
	}
	return out
}

// doneFor counts the tokens of an execution whose worker has finished.
func (w *workers) doneFor(arn string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, wk := range w.by {
		if wk.arn == arn && wk.done {
			n++
		}
	}
	return n
}

// start starts the work a callback step stands for and returns the
// resource to register.
func (w *workers) start(ctx context.Context, kind, token string) (pipeline.Resource, error) {
	c := w.c
	switch kind {
	case "sfn-execution":
		ex, err := c.sfn.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(c.stateMachine), Name: aws.String("run-" + token)})
		if err != nil {
			return pipeline.Resource{}, err
		}
		return pipeline.Resource{Kind: kind, ID: aws.ToString(ex.ExecutionArn)}, nil
	case "glue-job-run":
		run, err := c.glue.StartJobRun(ctx, &glue.StartJobRunInput{JobName: aws.String(glueJob)})
		if err != nil {
			return pipeline.Resource{}, err
		}
		return pipeline.Resource{Kind: kind, ID: aws.ToString(run.JobRunId), Params: map[string]string{pipeline.ParamJobName: glueJob}}, nil
	case "lambda-cleanup":
		return pipeline.Resource{Kind: kind, ID: "arn:aws:lambda:us-east-1:" + account + ":function:" + cleanupFunction}, nil
	case brokenCleanup:
		return pipeline.Resource{Kind: "lambda-cleanup", ID: "arn:aws:lambda:us-east-1:" + account + ":function:" + brokenCleanupFunction}, nil
	case "batch-job":
		id := "chaos-" + token
		c.jobs.start(kind, id)
		return pipeline.Resource{Kind: kind, ID: id}, nil
	case "ecs-task":
		id := "arn:aws:ecs:us-east-1:" + account + ":task/chaos/" + strings.ToLower(token)
		c.jobs.start(kind, id)
		return pipeline.Resource{Kind: kind, ID: id, Params: map[string]string{pipeline.ParamCluster: "chaos"}}, nil
	case "sagemaker-training-job", "sagemaker-processing-job", "sagemaker-transform-job":
		id := "chaos-" + token
		c.jobs.start(kind, id)
		return pipeline.Resource{Kind: kind, ID: id}, nil
	}
	return pipeline.Resource{}, fmt.Errorf("unknown kind %q", kind)
}

// register is the worker's PUT /callbacks/{token}/resources, retried as a
// worker would while the API is throttled or unavailable.
func (w *workers) register(ctx context.Context, cc callback.Context, r pipeline.Resource) string {
	var last error
	for attempt := 0; attempt < 12 && ctx.Err() == nil; attempt++ {
		_, err := w.c.kit.Register(ctx, cc, r)
		if err == nil {
			return "registered"
		}
		if workerkit.Answered(err) {
			return "refused"
		}
		last = err
		var api *workerkit.APIError
		if errors.As(err, &api) && api.StatusCode >= 400 && api.StatusCode < 500 && api.StatusCode != 429 {
			break
		}
		w.c.sleep(ctx, time.Duration(250<<min(attempt, 4))*time.Millisecond)
	}
	return fmt.Sprintf("failed: %v", last)
}

// cleanItself stops what the worker started when stopcoord refused it: the
// token was answered, so nobody else will.
func (w *workers) cleanItself(ctx context.Context, r pipeline.Resource) {
	c := w.c
	switch r.Kind {
	case "sfn-execution":
		c.sfn.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(r.ID)})
	case "glue-job-run":
		c.glue.BatchStopJobRun(ctx, &glue.BatchStopJobRunInput{JobName: aws.String(glueJob), JobRunIds: []string{r.ID}})
	case "lambda-cleanup":
	default:
		c.jobs.stop(r.Kind, r.ID, "worker")
	}
}

// answerSuccess is what the worker of an execution nobody stops does when
// its work is done.
func (w *workers) answerSuccess(ctx context.Context, cc callback.Context) {
	w.c.sleepRand(ctx, time.Second)
	for attempt := 0; attempt < 10 && ctx.Err() == nil; attempt++ {
		_, err := w.c.smWorker.SendPipelineExecutionStepSuccess(ctx, &sagemaker.SendPipelineExecutionStepSuccessInput{
			CallbackToken:      aws.String(cc.Token),
			ClientRequestToken: aws.String(pipeline.RequestToken("chaos-worker-success", cc.Token)),
			OutputParameters:   nil,
		})
		if err == nil || strings.Contains(err.Error(), "ConflictException") {
			return
		}
		w.c.sleep(ctx, 500*time.Millisecond)
	}
}
