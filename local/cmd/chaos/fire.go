package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// fire sends every stop the harness triggers at once (the schedule, the
// sweeper's max runtime and fail-fast trigger themselves), and starts the
// faults that belong to the stops: the paused DynamoDB and the killed
// function.
func (c *chaos) fire(ctx context.Context) {
	c.firedAt = time.Now()
	c.faultf("stops fired")
	if c.watch != nil && c.opts.faults.kill {
		c.watch.armed.Store(true)
	}
	var wg sync.WaitGroup
	if d := c.opts.faults.pauseDynamoDB; d > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.sleep(ctx, 300*time.Millisecond)
			c.pauseDynamoDB(ctx, d)
		}()
	}
	bulk := false
	forceN := 0
	for _, x := range c.execs {
		switch x.script.trigger {
		case trigGraceful:
			wg.Add(1)
			go func() { defer wg.Done(); c.stopHTTP(ctx, x, "graceful", "graceful") }()
		case trigForce:
			// Half the force stops come from an operator who escalates: a
			// graceful stop first, then force while it is Stopping.
			escalate := forceN%2 == 0
			forceN++
			wg.Add(1)
			go func() {
				defer wg.Done()
				if escalate {
					c.stopHTTP(ctx, x, "graceful", "graceful")
					c.sleep(ctx, time.Second)
				}
				c.stopHTTP(ctx, x, "force", "force")
			}()
		case trigBulk:
			bulk = true
		case trigEvent:
			wg.Add(1)
			go func() { defer wg.Done(); c.stopEvent(ctx, x) }()
		}
	}
	if bulk {
		wg.Add(1)
		go func() { defer wg.Done(); c.stopBulk(ctx) }()
	}
	wg.Wait()
	fmt.Fprintf(c.out, "stops fired (+%s)\n", c.since())
}

func (c *chaos) stopHTTP(ctx context.Context, x *execution, mode, keySuffix string) {
	c.markStop(x.arn, time.Now())
	key := fmt.Sprintf("chaos-%d-%d-%s", c.opts.seed, x.i, keySuffix)
	status, body := c.postJSON(ctx, "/stops", key, map[string]string{"pipelineExecutionArn": x.arn, "reason": "chaos: stop " + mode, "mode": mode})
	if status != http.StatusAccepted && status != http.StatusOK {
		c.noteAPI(x, fmt.Sprintf("POST /stops (%s) answered %d: %s", mode, status, truncate(body, 200)))
	}
}

func (c *chaos) stopBulk(ctx context.Context) {
	at := time.Now()
	for _, x := range c.execs {
		if x.script.trigger == trigBulk {
			c.markStop(x.arn, at)
		}
	}
	path := "/pipelines/" + url.PathEscape("chaos-bulk") + "/stops"
	status, body := c.postJSON(ctx, path, fmt.Sprintf("chaos-%d-bulk", c.opts.seed), map[string]string{"reason": "chaos: bulk stop", "mode": "graceful"})
	if status != http.StatusAccepted && status != http.StatusOK {
		c.harnessProblem("POST %s answered %d: %s", path, status, truncate(body, 300))
	}
}

// stopEvent puts a Stop Requested event on the stack's stop request bus,
// twice, as a producer that retries does.
func (c *chaos) stopEvent(ctx context.Context, x *execution) {
	c.markStop(x.arn, time.Now())
	detail, _ := json.Marshal(map[string]string{"pipelineExecutionArn": x.arn, "reason": "chaos: stop event", "mode": "graceful"})
	for copy := 0; copy < 2; copy++ {
		var err error
		for attempt := 0; attempt < 5; attempt++ {
			var out *eventbridge.PutEventsOutput
			out, err = c.events.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
				Source: aws.String("stopcoord"), DetailType: aws.String("Stop Requested"), Detail: aws.String(string(detail)), EventBusName: aws.String(c.stopRequestBus),
			}}})
			if err == nil && out.FailedEntryCount == 0 {
				break
			}
			if err == nil {
				err = fmt.Errorf("%d entries failed", out.FailedEntryCount)
			}
			c.sleep(ctx, 200*time.Millisecond)
		}
		if err != nil {
			c.harnessProblem("put the Stop Requested event for %s: %v", x.arn, err)
		}
	}
}

// noteAPI keeps what the stop API answered when it was not a success; the
// report shows it beside the execution's result.
func (c *chaos) noteAPI(x *execution, what string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	x.apiNotes = append(x.apiNotes, what)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
