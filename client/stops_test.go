package client_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/stopcoord/stopcoord/client"
)

const openStopsPage1 = `{"asOf":"2026-11-26T10:00:00Z","openLongerThan":"15m0s","cursor":"c1","stops":[
 {"stop":{"id":"stop-1","executionArn":"arn:aws:sagemaker:us-east-1:123456789012:pipeline/train/execution/abc","mode":"graceful","phase":"issued","createdAt":"2026-11-26T09:00:00Z","timeline":[]},
  "openForSeconds":3600,
  "execution":{"executionArn":"arn:aws:sagemaker:us-east-1:123456789012:pipeline/train/execution/abc","pipelineName":"train","status":"Stopping","terminal":false,"source":"ledger",
   "blocking":{"openCallbacks":[{"stepName":"Wait","since":"2026-11-26T08:59:00Z"}],"runningLambdas":[]}}}]}`

const openStopsPage2 = `{"asOf":"2026-11-26T10:00:01Z","openLongerThan":"15m0s","stops":[
 {"stop":{"id":"stop-2","executionArn":"arn:aws:sagemaker:us-east-1:123456789012:pipeline/train/execution/def","mode":"force","phase":"requested","createdAt":"2026-11-26T09:30:00Z","timeline":[]},
  "openForSeconds":1800,"viewError":"SageMaker is throttling; try again later"}]}`

// TestListOpenStopsPages: the paginator sends the threshold and the limit
// on every page, follows the cursor, and stops after the page without one.
func TestListOpenStopsPages(t *testing.T) {
	s, c := newServer(t, answer{200, openStopsPage1}, answer{200, openStopsPage2})
	p := client.NewListOpenStopsPaginator(c, &client.ListOpenStopsInput{OpenLongerThan: 15 * time.Minute, Limit: 1})
	var stops []client.OpenStop
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		stops = append(stops, page.Stops...)
	}
	if len(stops) != 2 || stops[0].Stop.ID != "stop-1" || stops[0].OpenFor() != time.Hour || stops[0].Execution.Blocking.OpenCallbacks[0].StepName != "Wait" ||
		stops[1].Execution != nil || stops[1].ViewError == "" {
		t.Fatalf("stops %+v", stops)
	}
	got := s.requests()
	if len(got) != 2 {
		t.Fatalf("%d requests, want 2", len(got))
	}
	for i, wantCursor := range []string{"", "c1"} {
		q, _ := url.ParseQuery(got[i].query)
		if got[i].method != "GET" || got[i].path != "/stops" || q.Get("openLongerThan") != "15m0s" || q.Get("limit") != "1" || q.Get("cursor") != wantCursor {
			t.Errorf("request %d: %+v, want GET /stops?openLongerThan=15m0s&limit=1&cursor=%s", i, got[i], wantCursor)
		}
	}
	if _, err := p.NextPage(context.Background()); err == nil {
		t.Fatal("NextPage after the last page: no error")
	}
}

func TestListOpenStopsRefusesANegativeThreshold(t *testing.T) {
	s, c := newServer(t)
	if _, err := c.ListOpenStops(context.Background(), &client.ListOpenStopsInput{OpenLongerThan: -time.Second}); err == nil {
		t.Fatal("a negative threshold was accepted")
	}
	if n := len(s.requests()); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
}
